import fc from 'fast-check'
import { describe, expect, it } from 'vitest'
import {
  DEFAULT_CHUNK_OVERLAP,
  DEFAULT_CHUNK_SIZE,
  chunkPages,
  chunkText,
  normalizeWhitespace,
  splitWords,
  type PageText
} from '../../src/ingestion/chunker.js'

/** `count` distinct words `w<start>` .. `w<start+count-1>`. */
const words = (count: number, start = 0): string =>
  Array.from({ length: count }, (_, i) => `w${start + i}`).join(' ')

describe('splitWords / normalizeWhitespace', () => {
  it('splits on any whitespace, including Unicode spaces', () => {
    expect(splitWords('  a\tb\n\nc\u00a0d\u3000e\u2009f\r\n')).toEqual(['a', 'b', 'c', 'd', 'e', 'f'])
    expect(splitWords('   \n\t ')).toEqual([])
    expect(normalizeWhitespace(' Hello,\n  world\t! ')).toBe('Hello, world !')
  })
})

describe('chunkPages', () => {
  it('uses 1000 words with 200 overlap by default', () => {
    expect(DEFAULT_CHUNK_SIZE).toBe(1000)
    expect(DEFAULT_CHUNK_OVERLAP).toBe(200)
    const chunks = chunkPages([{ page: 1, text: words(2500) }])
    expect(chunks.map((c) => c.wordCount)).toEqual([1000, 1000, 900])
    expect(chunks.map((c) => splitWords(c.text)[0])).toEqual(['w0', 'w800', 'w1600'])
    expect(splitWords(chunks[2]!.text).at(-1)).toBe('w2499')
  })

  it('keeps each chunk within one page and numbers chunks contiguously', () => {
    const pages: PageText[] = [
      { page: 1, text: words(25, 0) },
      { page: 2, text: words(5, 100) },
      { page: 3, text: words(12, 200) }
    ]
    const chunks = chunkPages(pages, { chunkSize: 10, overlap: 3 })
    expect(chunks.map((c) => [c.index, c.page, c.pageEnd, c.wordCount])).toEqual([
      [0, 1, 1, 10], [1, 1, 1, 10], [2, 1, 1, 10], [3, 1, 1, 4],
      [4, 2, 2, 5],
      [5, 3, 3, 10], [6, 3, 3, 5]
    ])
    expect(chunks[1]!.text).toBe(words(10, 7))
    expect(chunks[2]!.text).toBe(words(10, 14))
    expect(chunks[3]!.text).toBe(words(4, 21))
    expect(chunks[4]!.text).toBe(words(5, 100))
  })

  it('gives a short page exactly one chunk and drops empty pages', () => {
    const chunks = chunkPages([
      { page: 1, text: 'Only a few words here.' },
      { page: 2, text: '   \n\t  ' },
      { page: 3, text: '' },
      { page: 4, text: 'Last page.' }
    ])
    expect(chunks).toEqual([
      { index: 0, page: 1, pageEnd: 1, text: 'Only a few words here.', wordCount: 5 },
      { index: 1, page: 4, pageEnd: 4, text: 'Last page.', wordCount: 2 }
    ])
  })

  it('does not emit a trailing chunk that only repeats the overlap', () => {
    expect(chunkPages([{ page: 1, text: words(1000) }])).toHaveLength(1)
    expect(chunkPages([{ page: 1, text: words(1800) }]).map((c) => c.wordCount)).toEqual([1000, 1000])
    expect(chunkPages([{ page: 1, text: words(1801) }]).map((c) => c.wordCount)).toEqual([1000, 1000, 201])
  })

  it('normalises whitespace inside chunks', () => {
    const [chunk] = chunkPages([{ page: 7, text: '  Line one\n\nLine   two\tend  ' }])
    expect(chunk).toMatchObject({ page: 7, text: 'Line one Line two end' })
  })

  it('orders pages by page number', () => {
    const chunks = chunkPages([{ page: 2, text: 'second' }, { page: 1, text: 'first' }])
    expect(chunks.map((c) => [c.index, c.page, c.text])).toEqual([[0, 1, 'first'], [1, 2, 'second']])
  })

  it('can chunk across pages, reporting start and end pages', () => {
    const chunks = chunkPages(
      [{ page: 1, text: words(6, 0) }, { page: 2, text: words(6, 6) }, { page: 3, text: words(2, 12) }],
      { chunkSize: 5, overlap: 1, crossPages: true }
    )
    expect(chunks.map((c) => [c.page, c.pageEnd, c.text])).toEqual([
      [1, 1, words(5, 0)],
      [1, 2, words(5, 4)],
      [2, 3, words(5, 8)],
      [3, 3, words(2, 12)]
    ])
  })

  it('validates chunkSize and overlap', () => {
    const page = [{ page: 1, text: 'a b c' }]
    expect(() => chunkPages(page, { chunkSize: 10, overlap: 10 })).toThrow(RangeError)
    expect(() => chunkPages(page, { chunkSize: 10, overlap: 11 })).toThrow(/smaller than chunkSize/)
    expect(() => chunkPages(page, { chunkSize: 0 })).toThrow(RangeError)
    expect(() => chunkPages(page, { chunkSize: 1.5, overlap: 0 })).toThrow(RangeError)
    expect(() => chunkPages(page, { chunkSize: 10, overlap: -1 })).toThrow(RangeError)
    expect(() => chunkPages(page, { chunkSize: 100 })).toThrow(RangeError) // default overlap 200 >= 100
    expect(chunkPages(page, { chunkSize: 1, overlap: 0 }).map((c) => c.text)).toEqual(['a', 'b', 'c'])
  })

  it('property: windows cover every word, overlap exactly, and stay in bounds', () => {
    fc.assert(
      fc.property(
        fc.array(fc.nat({ max: 60 }), { maxLength: 6 }),
        fc.integer({ min: 1, max: 25 }),
        fc.nat({ max: 24 }),
        fc.boolean(),
        (wordCounts, size, rawOverlap, crossPages) => {
          const overlap = rawOverlap % size
          let next = 0
          const pages = wordCounts.map((n, i) => {
            const text = words(n, next)
            next += n
            return { page: i + 1, text }
          })
          const chunks = chunkPages(pages, { chunkSize: size, overlap, crossPages })
          const pageOfWord = new Map<string, number>()
          for (const p of pages) for (const w of splitWords(p.text)) pageOfWord.set(w, p.page)

          const seen = new Set<string>()
          chunks.forEach((c, i) => {
            expect(c.index).toBe(i)
            const ws = splitWords(c.text)
            expect(ws.length).toBe(c.wordCount)
            expect(ws.length).toBeGreaterThan(0)
            expect(ws.length).toBeLessThanOrEqual(size)
            expect(c.page).toBe(pageOfWord.get(ws[0]!))
            expect(c.pageEnd).toBe(pageOfWord.get(ws.at(-1)!))
            if (!crossPages) expect(c.pageEnd).toBe(c.page)
            for (const w of ws) seen.add(w)
            const prev = chunks[i - 1]
            if (prev && (crossPages || prev.page === c.page)) {
              // consecutive windows of one sequence share exactly `overlap` words
              expect(splitWords(prev.text).slice(size - overlap)).toEqual(ws.slice(0, overlap))
              expect(prev.wordCount).toBe(size)
            }
          })
          expect(seen.size).toBe(next)
        }
      ),
      { numRuns: 300 }
    )
  })
})

describe('chunkText', () => {
  it('chunks plain text without page information', () => {
    expect(chunkText(words(12), { chunkSize: 5, overlap: 2 })).toEqual([words(5, 0), words(5, 3), words(5, 6), words(3, 9)])
    expect(chunkText('   ')).toEqual([])
  })
})

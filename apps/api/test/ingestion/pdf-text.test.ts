import { deflateSync } from 'node:zlib'
import { describe, expect, it } from 'vitest'
import { PdfExtractionError, toPdfExtractionError } from '../../src/ingestion/errors.js'
import { assertPdfInflationWithinLimits, parseFilters } from '../../src/ingestion/pdf-inflation-guard.js'
import { extractPdfText, sanitizeExtractedText } from '../../src/ingestion/pdf-text.js'
import {
  makeCorruptPdf,
  makeEncryptedPdf,
  makeLargePdf,
  makePdf,
  makePdfBomb,
  makeRawTextPdf,
  renderPdf,
  makeTextlessPdf,
  makeTruncatedPdf,
  makeZeroPagePdf
} from '../helpers/pdf-fixtures.js'

async function extractionError (data: Uint8Array, options?: Parameters<typeof extractPdfText>[1]): Promise<PdfExtractionError> {
  try {
    await extractPdfText(data, options)
  } catch (err) {
    expect(err).toBeInstanceOf(PdfExtractionError)
    return err as PdfExtractionError
  }
  throw new Error('expected extraction to fail')
}

describe('extractPdfText (in-process)', () => {
  it('extracts the text of each page of a 3-page PDF', async () => {
    const pdf = await makePdf({
      pages: ['Alpha page talks about apples.', 'Bravo page is about bananas.', 'Charlie page covers cherries.'],
      info: { Title: 'Fruit report', Author: 'Tester' }
    })
    const result = await extractPdfText(pdf)
    expect(result.pageCount).toBe(3)
    expect(result.pages).toEqual([
      { page: 1, text: 'Alpha page talks about apples.' },
      { page: 2, text: 'Bravo page is about bananas.' },
      { page: 3, text: 'Charlie page covers cherries.' }
    ])
    expect(result.info).toMatchObject({ title: 'Fruit report', author: 'Tester', producer: 'PDFKit' })
  })

  it('keeps blank pages (empty text) so page numbers stay aligned', async () => {
    const pdf = await makePdf({ pages: ['first', '', 'third'] })
    const result = await extractPdfText(pdf)
    expect(result.pages.map((p) => [p.page, p.text])).toEqual([[1, 'first'], [2, ''], [3, 'third']])
  })

  it('keeps line structure of wrapped text', async () => {
    const long = Array.from({ length: 60 }, (_, i) => `word${i}`).join(' ')
    const { pages } = await extractPdfText(await makePdf({ pages: [long] }))
    expect(pages[0]!.text.split('\n').length).toBeGreaterThan(1)
    expect(pages[0]!.text.split(/\s+/)).toEqual(long.split(' '))
  })

  it('does not detach or modify the caller\'s bytes', async () => {
    const pdf = await makePdf({ pages: ['keep me'] })
    const copy = Buffer.from(pdf)
    const plain = new Uint8Array(pdf) // a whole-buffer Uint8Array: pdf.js would transfer it
    await extractPdfText(pdf)
    await extractPdfText(plain)
    expect(pdf.equals(copy)).toBe(true)
    expect(plain.byteLength).toBe(copy.length)
  })

  it('detaches the bytes with transferOwnership (no copy)', async () => {
    const plain = new Uint8Array(await makePdf({ pages: ['mine now'] }))
    const result = await extractPdfText(plain, { transferOwnership: true })
    expect(result.pages[0]!.text).toBe('mine now')
    expect(plain.byteLength).toBe(0)
  })

  describe('failures map to typed errors', () => {
    it('password-protected -> PDF_ENCRYPTED', async () => {
      const err = await extractionError(await makeEncryptedPdf())
      expect(err.code).toBe('PDF_ENCRYPTED')
    })

    it('owner-password-only (no user password) is readable', async () => {
      const pdf = await renderPdf({ ownerPassword: 'owner', permissions: { copying: false } }, (doc) => {
        doc.addPage().text('Readable without a password')
      })
      const result = await extractPdfText(pdf)
      expect(result.pages[0]!.text).toBe('Readable without a password')
    })

    it('corrupt -> PDF_CORRUPT', async () => {
      const err = await extractionError(makeCorruptPdf())
      expect(err.code).toBe('PDF_CORRUPT')
      expect(err.message).toMatch(/corrupt/)
    })

    it('truncated -> PDF_CORRUPT', async () => {
      expect((await extractionError(await makeTruncatedPdf())).code).toBe('PDF_CORRUPT')
    })

    it('empty input -> PDF_CORRUPT', async () => {
      expect((await extractionError(new Uint8Array(0))).code).toBe('PDF_CORRUPT')
    })

    it('not a PDF at all -> PDF_CORRUPT', async () => {
      expect((await extractionError(Buffer.from('hello, I am a text file'))).code).toBe('PDF_CORRUPT')
    })

    it('vector drawings only -> PDF_NO_TEXT', async () => {
      const err = await extractionError(await makeTextlessPdf())
      expect(err.code).toBe('PDF_NO_TEXT')
    })

    it('blank pages -> PDF_NO_TEXT', async () => {
      expect((await extractionError(await makePdf({ pages: ['', ' '] }))).code).toBe('PDF_NO_TEXT')
    })

    it('allowEmpty returns the empty pages instead', async () => {
      const result = await extractPdfText(await makeTextlessPdf(2), { allowEmpty: true })
      expect(result).toMatchObject({ pageCount: 2, pages: [{ page: 1, text: '' }, { page: 2, text: '' }] })
    })

    it('zero pages -> PDF_NO_TEXT', async () => {
      const err = await extractionError(makeZeroPagePdf())
      expect(err.code).toBe('PDF_NO_TEXT')
      expect(err.message).toMatch(/no pages/)
    })

    it('too many pages -> PDF_TOO_COMPLEX', async () => {
      const err = await extractionError(await makePdf({ pages: ['a', 'b', 'c'] }), { maxPages: 2 })
      expect(err.code).toBe('PDF_TOO_COMPLEX')
    })

    it('aborted -> PDF_ABORTED', async () => {
      const pdf = await makePdf({ pages: ['a', 'b', 'c'] })
      const ac = new AbortController()
      ac.abort()
      expect((await extractionError(pdf, { signal: ac.signal })).code).toBe('PDF_ABORTED')
    })

    it('aborted mid-document -> PDF_ABORTED', async () => {
      const { pdf } = await makeLargePdf(1024 * 1024)
      const ac = new AbortController()
      setTimeout(() => ac.abort(), 20)
      const started = performance.now()
      expect((await extractionError(pdf, { signal: ac.signal })).code).toBe('PDF_ABORTED')
      expect(performance.now() - started).toBeLessThan(1000) // a full extraction takes longer
    })

    it('yields to the event loop between pages', async () => {
      // pdf.js' in-thread "fake worker" only uses promise microtasks: without an explicit
      // yield, timers and I/O would be starved until the whole document is done.
      const { pdf, pageCount } = await makeLargePdf(1024 * 1024)
      let ticks = 0
      const interval = setInterval(() => { ticks++ }, 0)
      try {
        await extractPdfText(pdf)
      } finally {
        clearInterval(interval)
      }
      expect(ticks).toBeGreaterThanOrEqual(pageCount / 2)
    })

    it('maps raw pdf.js exception names', () => {
      const named = (name: string): Error => Object.assign(new Error('x'), { name })
      expect(toPdfExtractionError(named('PasswordException')).code).toBe('PDF_ENCRYPTED')
      expect(toPdfExtractionError(named('InvalidPDFException')).code).toBe('PDF_CORRUPT')
      expect(toPdfExtractionError(named('FormatError')).code).toBe('PDF_CORRUPT')
      expect(toPdfExtractionError(named('UnknownErrorException')).code).toBe('PDF_CORRUPT')
      expect(toPdfExtractionError(named('AbortException')).code).toBe('PDF_ABORTED')
      expect(toPdfExtractionError(new RangeError('Array buffer allocation failed')).code).toBe('PDF_TOO_COMPLEX')
      expect(toPdfExtractionError(new TypeError('boom')).code).toBe('PDF_EXTRACT_FAILED')
      expect(toPdfExtractionError('string thrown').code).toBe('PDF_EXTRACT_FAILED')
    })
  })

  describe('decompression bombs', () => {
    it('refuses a Flate bomb before pdf.js inflates it', async () => {
      const bomb = makePdfBomb({ inflatedBytes: 512 * 1024 * 1024 })
      expect(bomb.length).toBeLessThan(1024 * 1024) // ~520 KB
      const rssBefore = process.memoryUsage().rss
      const started = performance.now()
      const err = await extractionError(bomb)
      const elapsed = performance.now() - started
      expect(err.code).toBe('PDF_TOO_COMPLEX')
      expect(elapsed).toBeLessThan(5000)
      // the guard stops at 64 MiB per stream instead of pdf.js allocating ~1 GB
      expect(process.memoryUsage().rss - rssBefore).toBeLessThan(400 * 1024 * 1024)
    })

    it('counts chained Flate filters', () => {
      const inner = deflateSync(Buffer.alloc(8 * 1024 * 1024, 0x20))
      const outer = deflateSync(inner)
      const pdf = Buffer.concat([
        Buffer.from(`%PDF-1.7\n4 0 obj\n<< /Filter [/FlateDecode /Fl] /Length ${outer.length} >>\nstream\n`),
        outer,
        Buffer.from('\nendstream\nendobj\n')
      ])
      expect(assertPdfInflationWithinLimits(pdf).totalInflatedBytes).toBe(8 * 1024 * 1024)
      expect(() => assertPdfInflationWithinLimits(pdf, { maxStreamBytes: 1024 * 1024, maxTotalBytes: 1e9 }))
        .toThrow(expect.objectContaining({ code: 'PDF_TOO_COMPLEX' }))
    })

    it('enforces the total across streams', async () => {
      const pdf = await makePdf({ pages: ['one', 'two', 'three'] })
      const report = assertPdfInflationWithinLimits(pdf)
      expect(report.inflated).toBeGreaterThanOrEqual(3)
      expect(() => assertPdfInflationWithinLimits(pdf, { maxStreamBytes: 1e9, maxTotalBytes: report.totalInflatedBytes - 1 }))
        .toThrow(/together inflate/)
    })

    it('skips image streams and parses filter arrays', () => {
      expect(parseFilters('<< /Filter /FlateDecode /Length 5 >>')).toEqual(['FlateDecode'])
      expect(parseFilters('<< /Filter [ /ASCII85Decode /FlateDecode ] >>')).toEqual(['ASCII85Decode', 'FlateDecode'])
      expect(parseFilters('<< /Length 3 >>')).toEqual([])
      const img = deflateSync(Buffer.alloc(100 * 1024 * 1024))
      const pdf = Buffer.concat([
        Buffer.from(`%PDF-1.7\n5 0 obj\n<< /Type /XObject /Subtype /Image /Filter /FlateDecode /Length ${img.length} >>\nstream\r\n`),
        img,
        Buffer.from('\r\nendstream\nendobj\n')
      ])
      expect(assertPdfInflationWithinLimits(pdf)).toMatchObject({ streams: 1, inflated: 0 })
    })

    it('a moderate bomb is extracted when within limits (pdf.js inflates it fully)', async () => {
      const bomb = makePdfBomb({ inflatedBytes: 16 * 1024 * 1024 })
      const result = await extractPdfText(bomb)
      expect(result.pages).toEqual([{ page: 1, text: 'boom' }])
    })
  })

  it('sanitises text for storage', () => {
    expect(sanitizeExtractedText('a\u0000b\u0007c\r\nd\re\u0085f\ttab')).toBe('abc\nd\nef\ttab')
    expect(sanitizeExtractedText('x\ud800y\udc00z\ud83d\ude00')).toBe('x\uFFFDy\uFFFDz\ud83d\ude00')
  })

  it('removes NUL characters coming out of the PDF', async () => {
    const pdf = makeRawTextPdf('BT /F1 12 Tf 72 720 Td (nul\\000byte) Tj ET')
    const { pages } = await extractPdfText(pdf)
    expect(pages[0]!.text).not.toContain('\u0000')
    expect(pages[0]!.text.replace(/\s/g, '')).toMatch(/^nul.?byte$/)
  })
})

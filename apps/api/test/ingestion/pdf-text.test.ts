import { describe, expect, it } from 'vitest'
import { PdfExtractionError, toPdfExtractionError } from '../../src/ingestion/errors.js'
import { chargedWorkerSource } from '../../src/ingestion/pdfjs-decode-budget.js'
import { DEFAULT_MAX_DECODED_BYTES, extractPdfText, sanitizeExtractedText } from '../../src/ingestion/pdf-text.js'
import { hostilePdfs } from '../helpers/hostile-pdfs.js'
import {
  makeCorruptPdf,
  makeEncryptedPdf,
  makeLargePdf,
  makePdf,
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

  describe('decode budget (decompression bombs, however they are built)', () => {
    const MiB = 1024 * 1024
    // Built once: each file decodes to 1 GiB, eight times the default budget.
    const bombs = hostilePdfs(1024 * MiB)
    const tame = new Map(hostilePdfs(8 * MiB).map((pdf) => [pdf.name, pdf]))

    it.each(bombs.map((pdf) => [pdf.name, pdf] as const))('%s: refused with PDF_TOO_COMPLEX once the budget is spent', async (_name, pdf) => {
      const err = await extractionError(pdf.data, { includeInfo: false })
      expect(err.code, pdf.trick).toBe('PDF_TOO_COMPLEX')
      expect(err.message).toBe(`The PDF is too large to process: its streams decode to more than ${DEFAULT_MAX_DECODED_BYTES} bytes`)
    })

    it.each([...tame.values()].map((pdf) => [pdf.name, pdf] as const))('%s: the same file within the budget is extracted, and its decoded bytes counted', async (_name, pdf) => {
      const result = await extractPdfText(pdf.data, { includeInfo: false })
      expect(result.pages[0]!.text, pdf.trick).toContain('boom')
      expect(result.decodedBytes).toBeGreaterThanOrEqual(8 * MiB)
      expect(result.decodedBytes).toBeLessThanOrEqual(DEFAULT_MAX_DECODED_BYTES)
    })

    it('takes its limit from maxDecodedBytes, counting every stream and every repeat', async () => {
      const repeated = tame.get('repeated-form')!.data
      const { decodedBytes } = await extractPdfText(repeated, { includeInfo: false })
      expect((await extractionError(repeated, { maxDecodedBytes: decodedBytes - 1 })).code).toBe('PDF_TOO_COMPLEX')
      expect((await extractPdfText(repeated, { maxDecodedBytes: decodedBytes })).decodedBytes).toBe(decodedBytes)
    })

    it('gives each document its own budget, also when extractions overlap in one thread', async () => {
      const pdf = tame.get('flate-content')!.data
      const results = await Promise.all([1, 2, 3].map(async () => await extractPdfText(pdf, { includeInfo: false, maxDecodedBytes: 12 * MiB })))
      expect(results.map((r) => r.pages[0]!.text)).toEqual(['boom', 'boom', 'boom'])
    })

    it('an uncompressed document decodes nothing', async () => {
      expect((await extractPdfText(makeRawTextPdf('BT /F1 12 Tf 72 720 Td (plain) Tj ET'))).decodedBytes).toBe(0)
    })

    it('fails loudly if pdf.js no longer has the allocation it charges', () => {
      expect(() => chargedWorkerSource(Buffer.from('class DecodeStream { ensureBuffer() {} }'))).toThrow(/pdfjs-dist changed/)
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

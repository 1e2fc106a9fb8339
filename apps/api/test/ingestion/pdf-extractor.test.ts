/**
 * PdfExtractor = Piscina pool running the compiled worker from apps/api/dist.
 * Requires a fresh build (`npm test` builds first); see compiled-worker.ts.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { PdfExtractionError, type PdfErrorCode } from '../../src/ingestion/errors.js'
import { InProcessPdfExtractor, PdfExtractor, type PdfTextExtractor } from '../../src/ingestion/pdf-extractor.js'
import {
  makeCorruptPdf,
  makeEncryptedPdf,
  makeLargePdf,
  makePdf,
  makePdfBomb,
  makeTextlessPdf,
  makeTruncatedPdf,
  makeZeroPagePdf
} from '../helpers/pdf-fixtures.js'
import { assertCompiledWorkerIsFresh, compiledWorkerPath } from './compiled-worker.js'

async function codeOf (promise: Promise<unknown>): Promise<PdfErrorCode> {
  try {
    await promise
  } catch (err) {
    expect(err).toBeInstanceOf(PdfExtractionError)
    return (err as PdfExtractionError).code
  }
  throw new Error('expected a PdfExtractionError')
}

/** A PDF that takes pdf.js a second or more to process (a few hundred dense pages). */
let slowPdf: Buffer

beforeAll(async () => {
  assertCompiledWorkerIsFresh()
  slowPdf = (await makeLargePdf(3 * 1024 * 1024)).pdf
}, 60_000)

describe('PdfExtractor (worker pool)', () => {
  let extractor: PdfExtractor

  beforeAll(() => {
    // Default worker location: resolved from src/ to apps/api/dist/ingestion/.
    extractor = new PdfExtractor({ maxThreads: 2, timeoutMs: 30_000 })
  })

  afterAll(async () => {
    await extractor.close()
  })

  it('extracts a 3-page PDF in a worker thread', async () => {
    const pdf = await makePdf({ pages: ['Page one text', 'Page two text', 'Page three text'], info: { Title: 'Pooled' } })
    const result = await extractor.extract(pdf)
    expect(result).toEqual({
      pageCount: 3,
      pages: [
        { page: 1, text: 'Page one text' },
        { page: 2, text: 'Page two text' },
        { page: 3, text: 'Page three text' }
      ],
      decodedBytes: expect.any(Number),
      info: expect.objectContaining({ title: 'Pooled' })
    })
    expect(extractor.stats.threads).toBeGreaterThanOrEqual(1)
  })

  it('carries typed error codes across the thread boundary', async () => {
    expect(await codeOf(extractor.extract(await makeEncryptedPdf()))).toBe('PDF_ENCRYPTED')
    expect(await codeOf(extractor.extract(makeCorruptPdf()))).toBe('PDF_CORRUPT')
    expect(await codeOf(extractor.extract(await makeTruncatedPdf()))).toBe('PDF_CORRUPT')
    expect(await codeOf(extractor.extract(await makeTextlessPdf()))).toBe('PDF_NO_TEXT')
    expect(await codeOf(extractor.extract(makeZeroPagePdf()))).toBe('PDF_NO_TEXT')
    expect(await codeOf(extractor.extract(makePdfBomb({ inflatedBytes: 256 * 1024 * 1024 })))).toBe('PDF_TOO_COMPLEX')
    expect(await codeOf(extractor.extract(new Uint8Array(0)))).toBe('PDF_CORRUPT')
  })

  it('runs extractions concurrently and returns each its own result', async () => {
    const docs = await Promise.all(
      Array.from({ length: 6 }, (_, i) => makePdf({ pages: [`Document ${i} first`, `Document ${i} second`] }))
    )
    const results = await Promise.all(docs.map((d) => extractor.extract(d)))
    results.forEach((r, i) => {
      expect(r.pages.map((p) => p.text)).toEqual([`Document ${i} first`, `Document ${i} second`])
    })
    expect(extractor.stats.threads).toBeLessThanOrEqual(2)
  })

  it('leaves the caller\'s buffer intact by default', async () => {
    const pdf = await makePdf({ pages: ['intact'] })
    const plain = new Uint8Array(pdf)
    await extractor.extract(pdf)
    await extractor.extract(plain)
    expect(pdf.length).toBeGreaterThan(0)
    expect(plain.byteLength).toBe(pdf.length)
  })

  it('aborts on the caller\'s signal', async () => {
    const ac = new AbortController()
    const pending = extractor.extract(slowPdf, { signal: ac.signal })
    setTimeout(() => ac.abort(), 50)
    expect(await codeOf(pending)).toBe('PDF_ABORTED')
    const pre = new AbortController()
    pre.abort()
    expect(await codeOf(extractor.extract(slowPdf, { signal: pre.signal }))).toBe('PDF_ABORTED')
    // The pool keeps working afterwards.
    expect((await extractor.extract(await makePdf({ pages: ['still alive'] }))).pages[0]!.text).toBe('still alive')
  })
})

describe('PdfExtractor timeouts, back-pressure and shutdown', () => {
  it('times out, terminates the busy worker and recovers', async () => {
    const extractor = new PdfExtractor({ workerFilename: compiledWorkerPath, maxThreads: 1, timeoutMs: 300 })
    try {
      // Thread start-up is not what we time here: warm up with a generous per-call timeout.
      await extractor.extract(await makePdf({ pages: ['warm up'] }), { timeoutMs: 30_000 })
      const started = performance.now()
      expect(await codeOf(extractor.extract(slowPdf))).toBe('PDF_TIMEOUT')
      expect(performance.now() - started).toBeLessThan(2000)
      // The terminated thread is replaced (cold start again).
      const ok = await extractor.extract(await makePdf({ pages: ['after timeout'] }), { timeoutMs: 30_000 })
      expect(ok.pages[0]!.text).toBe('after timeout')
    } finally {
      await extractor.close()
    }
  })

  it('rejects with PDF_BUSY when the queue is full', async () => {
    const extractor = new PdfExtractor({ workerFilename: compiledWorkerPath, maxThreads: 1, maxQueue: 1, timeoutMs: 30_000 })
    try {
      const small = await makePdf({ pages: ['queued'] })
      // Admission is decided synchronously: 1 running + 1 queued are accepted, the rest refused.
      const settled = await Promise.allSettled(Array.from({ length: 4 }, () => extractor.extract(small)))
      const codes = settled.map((s) => (s.status === 'rejected' ? (s.reason as PdfExtractionError).code : 'ok'))
      expect(codes).toEqual(['ok', 'ok', 'PDF_BUSY', 'PDF_BUSY'])
      expect(extractor.stats).toMatchObject({ inFlight: 0, capacity: 2 })
      // Capacity frees up once work completes.
      expect((await extractor.extract(small)).pages[0]!.text).toBe('queued')
    } finally {
      await extractor.close()
    }
  }, 60_000)

  it('close() rejects in-flight work and later calls; it is idempotent', async () => {
    const extractor = new PdfExtractor({ workerFilename: compiledWorkerPath, maxThreads: 1 })
    // codeOf() attaches the rejection handlers right away (no unhandled rejections).
    const inFlight = codeOf(extractor.extract(slowPdf))
    const queued = codeOf(extractor.extract(slowPdf))
    await new Promise((resolve) => setTimeout(resolve, 100))
    await extractor.close()
    expect(await inFlight).toBe('PDF_EXTRACTOR_CLOSED')
    expect(await queued).toBe('PDF_EXTRACTOR_CLOSED')
    expect(await codeOf(extractor.extract(slowPdf))).toBe('PDF_EXTRACTOR_CLOSED')
    expect(extractor.closed).toBe(true)
    await extractor.close()
  })

  it('transferOwnership detaches the caller\'s buffer instead of copying', async () => {
    const extractor = new PdfExtractor({ workerFilename: compiledWorkerPath, maxThreads: 1, transferOwnership: true })
    try {
      const pdf = await makePdf({ pages: ['transferred'] })
      const plain = new Uint8Array(pdf) // owns its ArrayBuffer: transferable
      expect((await extractor.extract(plain)).pages[0]!.text).toBe('transferred')
      expect(plain.byteLength).toBe(0)
      // Node Buffers may live in Node's shared pool: always copied.
      const buf = Buffer.from(pdf)
      await extractor.extract(buf)
      expect(buf.length).toBe(pdf.length)
    } finally {
      await extractor.close()
    }
  })

  it('maps a worker running out of heap to PDF_TOO_COMPLEX', async () => {
    // ~9 M characters of text cannot fit a 16 MB heap (the worker itself starts in less).
    const { pdf } = await makeLargePdf(10 * 1024 * 1024)
    const extractor = new PdfExtractor({ workerFilename: compiledWorkerPath, maxThreads: 1, maxOldGenerationSizeMb: 16, timeoutMs: 30_000 })
    try {
      expect(await codeOf(extractor.extract(pdf))).toBe('PDF_TOO_COMPLEX')
    } finally {
      await extractor.close()
    }
  }, 45_000)

  it('survives a worker dying outside a task (no process crash)', async () => {
    // 4 MB of heap is not even enough to load the worker module: the thread dies before
    // taking the task, Piscina emits 'error' on the pool (fatal without a listener).
    const errors: unknown[] = []
    const extractor = new PdfExtractor({
      workerFilename: compiledWorkerPath,
      maxThreads: 1,
      maxOldGenerationSizeMb: 4,
      timeoutMs: 1500,
      onWorkerError: (err) => errors.push(err)
    })
    try {
      const code = await codeOf(extractor.extract(await makePdf({ pages: ['x'] })))
      expect(['PDF_TIMEOUT', 'PDF_TOO_COMPLEX']).toContain(code)
      if (code === 'PDF_TIMEOUT') expect(errors.length).toBeGreaterThanOrEqual(1)
    } finally {
      await extractor.close()
    }
  })

  it('fails fast when the compiled worker is missing', () => {
    expect(() => new PdfExtractor({ workerFilename: '/nonexistent/pdf-extract.worker.js' })).toThrow(/npm run build/)
  })
})

describe('InProcessPdfExtractor', () => {
  it('has the same interface and error codes', async () => {
    const extractor: PdfTextExtractor = new InProcessPdfExtractor()
    const result = await extractor.extract(await makePdf({ pages: ['in process'] }))
    expect(result.pages).toEqual([{ page: 1, text: 'in process' }])
    expect(await codeOf(extractor.extract(await makeEncryptedPdf()))).toBe('PDF_ENCRYPTED')
    await extractor.close()
    expect(await codeOf(extractor.extract(await makePdf({ pages: ['x'] })))).toBe('PDF_EXTRACTOR_CLOSED')
  })
})

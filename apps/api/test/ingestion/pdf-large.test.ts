/**
 * Throughput and memory of extracting a ~10 MB PDF, in-process and through the pool.
 * Prints the measurements (see the test output); asserts correctness and generous bounds.
 *
 * The heavier variants (warm pool, a 10 MB *compressed* PDF holding ~4.7x more text,
 * ~50 s each on a 2-CPU box) run only with INGESTION_BENCH=1:
 *   INGESTION_BENCH=1 npx vitest run apps/api/test/ingestion/pdf-large.test.ts
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { chunkPages } from '../../src/ingestion/chunker.js'
import { PdfExtractor } from '../../src/ingestion/pdf-extractor.js'
import { extractPdfText, type ExtractedPdf } from '../../src/ingestion/pdf-text.js'
import { makeLargePdf, type LargePdfResult } from '../helpers/pdf-fixtures.js'
import { assertCompiledWorkerIsFresh, compiledWorkerPath } from './compiled-worker.js'

const TARGET_BYTES = 10 * 1024 * 1024
const MB = 1024 * 1024
const BENCH = process.env.INGESTION_BENCH === '1'

interface Measured<T> { value: T, ms: number, peakRssMb: number, baseRssMb: number }

/** Run `fn`, sampling RSS every 10 ms (the whole process: main thread + worker threads). */
async function measure<T> (fn: () => Promise<T>): Promise<Measured<T>> {
  const base = process.memoryUsage().rss
  let peak = base
  const timer = setInterval(() => { peak = Math.max(peak, process.memoryUsage().rss) }, 10)
  const started = performance.now()
  try {
    const value = await fn()
    const ms = performance.now() - started
    peak = Math.max(peak, process.memoryUsage().rss)
    return { value, ms, peakRssMb: peak / MB, baseRssMb: base / MB }
  } finally {
    clearInterval(timer)
  }
}

function report (label: string, m: Measured<unknown>): void {
  console.log(`[pdf-large] ${label}: ${m.ms.toFixed(0)} ms, RSS ${m.baseRssMb.toFixed(0)} -> peak ${m.peakRssMb.toFixed(0)} MB (+${(m.peakRssMb - m.baseRssMb).toFixed(0)} MB)`)
}

function checkResult (result: ExtractedPdf, fixture: LargePdfResult): void {
  expect(result.pageCount).toBe(fixture.pageCount)
  expect(result.pages).toHaveLength(fixture.pageCount)
  for (const n of [1, 2, Math.floor(fixture.pageCount / 2), fixture.pageCount]) {
    const page = result.pages[n - 1]!
    expect(page.page).toBe(n)
    expect(page.text.startsWith(`PAGE-${n}`)).toBe(true)
  }
  const words = result.pages.reduce((sum, p) => sum + p.text.split(/\s+/).filter(Boolean).length, 0)
  expect(words).toBe(fixture.wordCount + fixture.pageCount) // + one PAGE-n marker per page
}

describe('10 MB PDF', () => {
  let uncompressed: LargePdfResult
  let compressed: LargePdfResult
  let extractor: PdfExtractor

  beforeAll(async () => {
    assertCompiledWorkerIsFresh()
    let m = await measure(() => makeLargePdf(TARGET_BYTES))
    uncompressed = m.value
    console.log(`[pdf-large] generated uncompressed ${(uncompressed.pdf.length / MB).toFixed(1)} MB, ${uncompressed.pageCount} pages, ${uncompressed.wordCount} words in ${m.ms.toFixed(0)} ms`)
    expect(m.ms).toBeLessThan(10_000)
    if (BENCH) {
      m = await measure(() => makeLargePdf(TARGET_BYTES, { compress: true }))
      compressed = m.value
      console.log(`[pdf-large] generated compressed ${(compressed.pdf.length / MB).toFixed(1)} MB, ${compressed.pageCount} pages, ${compressed.wordCount} words in ${m.ms.toFixed(0)} ms`)
    }
    extractor = new PdfExtractor({ workerFilename: compiledWorkerPath, maxThreads: 1, timeoutMs: 120_000 })
  }, 120_000)

  afterAll(async () => {
    await extractor?.close()
  })

  it('generates fast enough to be used in tests', () => {
    expect(uncompressed.pdf.length).toBeGreaterThanOrEqual(TARGET_BYTES)
    expect(uncompressed.pdf.length).toBeLessThan(TARGET_BYTES * 1.1)
    if (BENCH) expect(compressed.pdf.length).toBeGreaterThanOrEqual(TARGET_BYTES)
  })

  it('extracts in-process (uncompressed)', async () => {
    const m = await measure(() => extractPdfText(uncompressed.pdf))
    report(`in-process, uncompressed ${uncompressed.pageCount} pages`, m)
    checkResult(m.value, uncompressed)
    expect(m.ms).toBeLessThan(60_000) // the pool's default timeout
    const chunks = chunkPages(m.value.pages)
    console.log(`[pdf-large] chunked into ${chunks.length} chunks`)
    expect(chunks.length).toBe(uncompressed.pageCount) // ~850 words per page -> one chunk per page
  }, 120_000)

  it('extracts through the pool (uncompressed, cold worker)', async () => {
    const m = await measure(() => extractor.extract(uncompressed.pdf))
    report(`pool (cold), uncompressed ${uncompressed.pageCount} pages`, m)
    checkResult(m.value, uncompressed)
  }, 120_000)

  it.runIf(BENCH)('extracts through the pool (uncompressed, warm worker)', async () => {
    const m = await measure(() => extractor.extract(uncompressed.pdf))
    report(`pool (warm), uncompressed ${uncompressed.pageCount} pages`, m)
    checkResult(m.value, uncompressed)
  }, 120_000)

  it.runIf(BENCH)('extracts in-process (compressed, ~4.7x the text)', async () => {
    const m = await measure(() => extractPdfText(compressed.pdf))
    report(`in-process, compressed ${compressed.pageCount} pages`, m)
    checkResult(m.value, compressed)
  }, 180_000)

  it.runIf(BENCH)('extracts through the pool (compressed, ~4.7x the text)', async () => {
    const m = await measure(() => extractor.extract(compressed.pdf))
    report(`pool (warm), compressed ${compressed.pageCount} pages`, m)
    checkResult(m.value, compressed)
  }, 180_000)

  it('reports the process high-water mark', () => {
    console.log(`[pdf-large] process maxRSS (whole test file): ${(process.resourceUsage().maxRSS / 1024).toFixed(0)} MB`)
  })
})

/**
 * Piscina worker: extracts the text of one PDF per task.
 *
 * Runs only from compiled code (`apps/api/dist/ingestion/pdf-extract.worker.js`); the
 * pool is created by `PdfExtractor` (see pdf-extractor.ts).
 *
 * Errors are *returned* as `{ ok: false, error: { code, message } }` instead of thrown:
 * an Error crossing `postMessage` (structured clone) loses its `name` and any custom
 * properties such as `code` (checked on Node 20), so a thrown `PdfExtractionError` would
 * arrive as a plain `Error`. `PdfExtractor` turns the envelope back into a
 * `PdfExtractionError`.
 */
import { toPdfExtractionError, type SerializedPdfError } from './errors.js'
import type { MessagePort } from 'node:worker_threads'
import type { ExtractedPage, ExtractedPdf } from './pdf-text.js'

/** Structured-clone-safe subset of `ExtractPdfOptions`. */
export interface PdfWorkerOptions {
  maxPages?: number
  maxDecodedBytes?: number
  includeInfo?: boolean
}

export interface PdfExtractTask {
  /** The PDF bytes; transfer its ArrayBuffer to the worker (`transferList`). */
  data: Uint8Array
  options?: PdfWorkerOptions
  /**
   * When given (transferred), pages are posted on it in batches as they are extracted, followed by
   * `'end'` once the last batch is sent; the outcome's `pages` is then empty.
   */
  pagesPort?: MessagePort
}

/** What `pagesPort` carries: page batches, then `'end'` after the last one of a successful extraction. */
export type PagesMessage = ExtractedPage[] | 'end'

export type PdfExtractOutcome =
  | { ok: true, result: ExtractedPdf }
  | { ok: false, error: SerializedPdfError }

export default async function extractPdfInWorker (task: PdfExtractTask): Promise<PdfExtractOutcome> {
  try {
    // The bytes were transferred to this thread: we own them, no extra copy needed.
    // Loaded with the first task, not at thread start: a heap too small for pdf.js then fails that task
    // (PDF_TOO_COMPLEX) instead of killing every thread the pool starts.
    const { extractPdfText } = await import('./pdf-text.js')
    const port = task.pagesPort
    const result = await extractPdfText(task.data, {
      ...task.options,
      transferOwnership: true,
      ...(port === undefined ? {} : { onPages: (pages: ExtractedPage[]) => { port.postMessage(pages satisfies PagesMessage) } })
    })
    port?.postMessage('end' satisfies PagesMessage)
    return { ok: true, result }
  } catch (err) {
    return { ok: false, error: toPdfExtractionError(err).toJSON() }
  } finally {
    task.pagesPort?.close()
  }
}

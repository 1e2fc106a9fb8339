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
import type { InflationLimits } from './pdf-inflation-guard.js'
import { extractPdfText, type ExtractedPdf } from './pdf-text.js'

/** Structured-clone-safe subset of `ExtractPdfOptions`. */
export interface PdfWorkerOptions {
  maxPages?: number
  inflationLimits?: InflationLimits | false
  includeInfo?: boolean
}

export interface PdfExtractTask {
  /** The PDF bytes; transfer its ArrayBuffer to the worker (`transferList`). */
  data: Uint8Array
  options?: PdfWorkerOptions
}

export type PdfExtractOutcome =
  | { ok: true, result: ExtractedPdf }
  | { ok: false, error: SerializedPdfError }

export default async function extractPdfInWorker (task: PdfExtractTask): Promise<PdfExtractOutcome> {
  try {
    // The bytes were transferred to this thread: we own them, no extra copy needed.
    const result = await extractPdfText(task.data, { ...task.options, transferOwnership: true })
    return { ok: true, result }
  } catch (err) {
    return { ok: false, error: toPdfExtractionError(err).toJSON() }
  }
}

/**
 * Typed errors of the PDF ingestion pipeline.
 *
 * Every failure of `extractPdfText` / `PdfExtractor.extract` is a `PdfExtractionError`
 * with a stable `code`, so routes can map it to a user-facing message without parsing
 * error messages.
 */

export const PDF_ERROR_CODES = [
  /** The PDF needs a (user) password to be opened. */
  'PDF_ENCRYPTED',
  /** Not a parseable PDF: corrupt, truncated, empty, or not a PDF at all. */
  'PDF_CORRUPT',
  /** The PDF opened fine but has no extractable text (scanned/image-only, blank pages, zero pages). */
  'PDF_NO_TEXT',
  /** Resource guard tripped: decompression bomb, too many pages, or the worker ran out of memory. */
  'PDF_TOO_COMPLEX',
  /** Extraction did not finish within the configured timeout (the worker thread was terminated). */
  'PDF_TIMEOUT',
  /** The extraction queue is full (back-pressure); retry later. */
  'PDF_BUSY',
  /** The caller aborted the extraction (e.g. the client disconnected). */
  'PDF_ABORTED',
  /** The extractor was closed. */
  'PDF_EXTRACTOR_CLOSED',
  /** Anything else (bug, unexpected pdf.js failure). */
  'PDF_EXTRACT_FAILED'
] as const

export type PdfErrorCode = typeof PDF_ERROR_CODES[number]

export class PdfExtractionError extends Error {
  readonly code: PdfErrorCode

  constructor (code: PdfErrorCode, message: string, options?: { cause?: unknown }) {
    super(message, options)
    this.name = 'PdfExtractionError'
    this.code = code
  }

  /** Plain, structured-clone-safe form (used to cross the worker-thread boundary). */
  toJSON (): SerializedPdfError {
    return { code: this.code, message: this.message }
  }
}

export interface SerializedPdfError {
  code: PdfErrorCode
  message: string
}

export function isPdfExtractionError (value: unknown): value is PdfExtractionError {
  return value instanceof PdfExtractionError
}

export function isPdfErrorCode (value: unknown): value is PdfErrorCode {
  return typeof value === 'string' && (PDF_ERROR_CODES as readonly string[]).includes(value)
}

function errorName (err: unknown): string | undefined {
  if (typeof err === 'object' && err !== null && 'name' in err && typeof err.name === 'string') return err.name
  return undefined
}

function errorMessage (err: unknown): string {
  if (err instanceof Error) return err.message
  return String(err)
}

/**
 * Map anything thrown by pdf-parse / pdf.js to a `PdfExtractionError`.
 *
 * pdf-parse 2.x re-wraps pdf.js exceptions into its own classes with the same `name`
 * (`PasswordException`, `InvalidPDFException`, `FormatError`, `UnknownErrorException`,
 * `ResponseException`, `AbortException`), so we match on `name`, which also covers raw
 * pdf.js errors.
 */
export function toPdfExtractionError (err: unknown): PdfExtractionError {
  if (err instanceof PdfExtractionError) return err
  const name = errorName(err)
  const message = errorMessage(err)
  switch (name) {
    case 'PasswordException':
      return new PdfExtractionError('PDF_ENCRYPTED', 'The PDF is password-protected', { cause: err })
    // pdf.js wraps any other failure raised while parsing the document in its worker
    // (bad xref, invalid page tree, ...) as UnknownErrorException: the input caused it.
    case 'InvalidPDFException':
    case 'FormatError':
    case 'UnknownErrorException':
      return new PdfExtractionError('PDF_CORRUPT', `The PDF is corrupt or truncated: ${message}`, { cause: err })
    case 'AbortException':
    case 'AbortError':
      return new PdfExtractionError('PDF_ABORTED', 'PDF extraction was aborted', { cause: err })
    case 'RangeError':
      // e.g. "Array buffer allocation failed", "Invalid typed array length"
      return new PdfExtractionError('PDF_TOO_COMPLEX', `The PDF is too large or complex to process: ${message}`, { cause: err })
    default:
      return new PdfExtractionError('PDF_EXTRACT_FAILED', `PDF extraction failed: ${message}`, { cause: err })
  }
}

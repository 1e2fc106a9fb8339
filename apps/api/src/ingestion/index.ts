/**
 * Ingestion library: upload checks, PDF text extraction (worker pool), chunking.
 *
 * Deliberately does NOT re-export `extractPdfText` (./pdf-text.js) at runtime: importing
 * it loads pdf.js and @napi-rs/canvas into the importing thread. Import it directly where
 * in-process extraction is wanted, or use `InProcessPdfExtractor` (lazy import).
 */
export {
  PDF_ERROR_CODES,
  PdfExtractionError,
  isPdfErrorCode,
  isPdfExtractionError,
  toPdfExtractionError,
  type PdfErrorCode,
  type SerializedPdfError
} from './errors.js'
export {
  InProcessPdfExtractor,
  PdfExtractor,
  defaultWorkerFilename,
  type ExtractCallOptions,
  type PdfExtractorOptions,
  type PdfTextExtractor
} from './pdf-extractor.js'
export type { ExtractedPage, ExtractedPdf, ExtractPdfOptions, PdfInfo } from './pdf-text.js'
export {
  DEFAULT_CHUNK_OVERLAP,
  DEFAULT_CHUNK_SIZE,
  chunkPages,
  chunkText,
  normalizeWhitespace,
  splitWords,
  type ChunkOptions,
  type PageText,
  type TextChunk
} from './chunker.js'
export {
  PDF_HEADER_WINDOW,
  PDF_MIME,
  checkPdfSignature,
  findPdfHeader,
  invalidFileTypeMessage,
  isPdf,
  sniffMimeType,
  type PdfSignatureCheck
} from './pdf-signature.js'
export { documentNameFromFilename, secureFilename, type SecureFilenameOptions } from './secure-filename.js'

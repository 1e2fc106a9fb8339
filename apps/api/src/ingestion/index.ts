/**
 * Ingestion library: upload checks, PDF text extraction (worker pool), chunking.
 *
 * Deliberately does NOT re-export `extractPdfText` (./pdf-text.js) at runtime: importing
 * it loads pdf.js and @napi-rs/canvas into the importing thread. Import it directly where
 * in-process extraction is wanted, or use `InProcessPdfExtractor` (lazy import).
 */
export * from './errors.js'
export * from './pdf-extractor.js'
export type { ExtractedPage, ExtractedPdf, ExtractPdfOptions, PdfInfo } from './pdf-text.js'
export * from './chunker.js'
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
export * from './secure-filename.js'

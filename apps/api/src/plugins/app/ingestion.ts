import { createHash } from 'node:crypto'
import fp from 'fastify-plugin'
import { setImmediate as yieldToEventLoop } from 'node:timers/promises'
import { chunkPages, type TextChunk } from '../../ingestion/chunker.js'
import { isPdfExtractionError, type PdfErrorCode } from '../../ingestion/errors.js'
import { PdfExtractor } from '../../ingestion/pdf-extractor.js'
import type { ExtractedPage } from '../../ingestion/pdf-text.js'
import type { DocumentsRepository } from './documents-repository.js'

declare module 'fastify' {
  interface FastifyInstance {
    ingestion: Ingestion
  }
}

export interface IngestInput {
  userId: string
  /** The contract's document_name. */
  name: string
  /** The secure filename the document was saved under. */
  filename: string
  data: Buffer
  /** SHA-256 of `data` if the caller hashed it while receiving it (saves blocking the event loop on 10 MB). */
  sha256?: Buffer
  /** Aborted when the client goes away: extraction stops and nothing is stored. */
  signal?: AbortSignal
}

export type IngestResult =
  | { ok: true, documentId: string, pages: number, totalChunks: number, replaced: boolean, timings: IngestTimings }
  | { ok: false, reason: 'unreadable', code: PdfErrorCode, message: string }
  | { ok: false, reason: 'limit', current: number }
  | { ok: false, reason: 'aborted' }
  | { ok: false, reason: 'user_gone' }

/** About 5 ms of chunking per slice. */
const PAGES_PER_SLICE = 50

/** What the user reads for each extraction failure (the contract's 200 {success:false, message}). */
export const PDF_ERROR_MESSAGES: Record<PdfErrorCode, string> = {
  PDF_ENCRYPTED: 'This PDF is password-protected. Please remove the password and upload it again.',
  PDF_CORRUPT: 'This PDF is corrupt or incomplete and could not be read. Please check the file and upload it again.',
  PDF_NO_TEXT: 'No content extracted from PDF',
  PDF_TOO_COMPLEX: 'This PDF is too large or complex to process. Please split it into smaller files.',
  PDF_TIMEOUT: 'Processing this PDF took too long. Please split it into smaller files.',
  PDF_BUSY: 'The server is busy processing other PDFs. Please try again in a minute.',
  PDF_ABORTED: 'The upload was cancelled.',
  PDF_EXTRACTOR_CLOSED: 'The server is restarting. Please try again in a minute.',
  PDF_EXTRACT_FAILED: 'This PDF could not be processed. Please check the file and upload it again.'
}

/** Milliseconds spent per stage, logged with every upload. */
export interface IngestTimings {
  extractMs: number
  chunkMs: number
  saveMs: number
}

export interface IngestionOptions {
  chunkSizeWords: number
  chunkOverlapWords: number
  maxDocuments: number
}

/** PDF → page-aware chunks → Postgres. Extraction runs in a worker pool; the event loop only moves bytes. */
export class Ingestion {
  constructor (
    private readonly extractor: PdfExtractor,
    private readonly documents: DocumentsRepository,
    private readonly options: IngestionOptions
  ) {}

  get poolStats (): PdfExtractor['stats'] {
    return this.extractor.stats
  }

  /**
   * Page-aware chunking in slices of pages with a yield between them: a 10 MB PDF takes ~100 ms of
   * CPU here, which must not stall other requests in one piece. Chunks never span pages, so slicing
   * changes nothing but the running index.
   */
  async #chunk (pages: readonly ExtractedPage[]): Promise<TextChunk[]> {
    const ordered = [...pages].sort((a, b) => a.page - b.page)
    const options = { chunkSize: this.options.chunkSizeWords, overlap: this.options.chunkOverlapWords }
    const chunks: TextChunk[] = []
    for (let start = 0; start < ordered.length; start += PAGES_PER_SLICE) {
      if (start > 0) await yieldToEventLoop()
      for (const chunk of chunkPages(ordered.slice(start, start + PAGES_PER_SLICE), options)) chunks.push({ ...chunk, index: chunks.length })
    }
    return chunks
  }

  async ingest (input: IngestInput): Promise<IngestResult> {
    const t0 = performance.now()
    let extracted
    try {
      extracted = await this.extractor.extract(input.data, input.signal === undefined ? {} : { signal: input.signal })
    } catch (err) {
      if (!isPdfExtractionError(err)) throw err
      if (err.code === 'PDF_ABORTED') return { ok: false, reason: 'aborted' }
      return { ok: false, reason: 'unreadable', code: err.code, message: PDF_ERROR_MESSAGES[err.code] }
    }
    const t1 = performance.now()
    const chunks = await this.#chunk(extracted.pages)
    if (chunks.length === 0) {
      return { ok: false, reason: 'unreadable', code: 'PDF_NO_TEXT', message: PDF_ERROR_MESSAGES.PDF_NO_TEXT }
    }
    // A client gone during extraction gets nothing stored; once the transaction starts it completes.
    if (input.signal?.aborted === true) return { ok: false, reason: 'aborted' }
    const t2 = performance.now()
    const saved = await this.documents.save({
      userId: input.userId,
      name: input.name,
      filename: input.filename,
      data: input.data,
      sha256: input.sha256 ?? createHash('sha256').update(input.data).digest(),
      pages: extracted.pageCount,
      chunks,
      maxDocuments: this.options.maxDocuments
    })
    if (!saved.ok) return saved
    const timings = { extractMs: Math.round(t1 - t0), chunkMs: Math.round(t2 - t1), saveMs: Math.round(performance.now() - t2) }
    return { ok: true, documentId: saved.documentId, pages: extracted.pageCount, totalChunks: chunks.length, replaced: saved.replaced, timings }
  }
}

export default fp(async (fastify) => {
  const { documents: cfg } = fastify.config
  const extractor = new PdfExtractor({
    ...(cfg.extractThreads > 0 ? { maxThreads: cfg.extractThreads } : {}),
    timeoutMs: cfg.extractTimeoutMs,
    // Document info is not stored; skipping it saves a pdf.js round trip per upload.
    includeInfo: false
  })
  fastify.decorate('ingestion', new Ingestion(extractor, fastify.documents, {
    chunkSizeWords: cfg.chunkSizeWords,
    chunkOverlapWords: cfg.chunkOverlapWords,
    maxDocuments: cfg.maxPerUser
  }))
  fastify.addHook('onClose', async () => { await extractor.close() })
}, { name: 'ingestion', dependencies: ['documents-repository'] })

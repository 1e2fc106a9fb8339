import { createHash } from 'node:crypto'
import fp from 'fastify-plugin'
import { Counter, Gauge, Histogram } from 'prom-client'
import { chunkPages } from '../../../ingestion/chunker.js'
import { isPdfExtractionError, type PdfErrorCode } from '../../../ingestion/errors.js'
import { PdfExtractor } from '../../../ingestion/pdf-extractor.js'
import type { ExtractedPage } from '../../../ingestion/pdf-text.js'
import type { DocumentsRepository, DocumentWriter, NewDocumentHeader } from './documents-repository.js'

declare module 'fastify' {
  interface FastifyInstance {
    ingestion: Ingestion
  }
}

export interface IngestInput {
  userId: string
  /** The name clients use for the document (file name without `.pdf`). */
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

/** What the user reads for each extraction failure (200 {success:false, message}, which clients show as is). */
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
  /** Reading the PDF; chunking and storing the pages run alongside it. */
  extractMs: number
  /** Chunking, all batches together (inside extractMs). */
  chunkMs: number
  /** Storing what was left once the last page was read, and the commit. */
  saveMs: number
}

export interface IngestionOptions {
  chunkSizeWords: number
  chunkOverlapWords: number
  maxDocuments: number
}

type Refusal = Extract<IngestResult, { reason: 'limit' | 'user_gone' }>

/**
 * Stores the pages of one upload while the rest is still being extracted: the transaction opens with
 * the first batch (not while the upload waits for an extraction thread, so queued uploads hold no
 * connection), and each batch is chunked and inserted as it comes. Chunks never span pages, so a
 * batch is chunked on its own with the index running on.
 */
class PipelinedSave {
  #tail: Promise<void> = Promise.resolve()
  #writer: DocumentWriter | undefined
  #chunks = 0
  chunkMs = 0
  /** Why storing stopped: the extraction is aborted through `stop` and this is the upload's outcome. */
  failure: { refusal: Refusal } | { error: unknown } | undefined

  constructor (
    private readonly documents: DocumentsRepository,
    private readonly header: NewDocumentHeader,
    private readonly chunkOptions: { chunkSize: number, overlap: number },
    private readonly stop: AbortController
  ) {}

  get chunkCount (): number {
    return this.#chunks
  }

  add (pages: ExtractedPage[]): void {
    this.#tail = this.#tail.then(async () => {
      if (this.failure !== undefined) return
      const t0 = performance.now()
      const chunks = chunkPages(pages, this.chunkOptions).map((chunk, i) => ({ ...chunk, index: this.#chunks + i }))
      this.chunkMs += performance.now() - t0
      if (chunks.length === 0) return
      if (this.#writer === undefined) {
        const opened = await this.documents.open(this.header)
        if (!opened.ok) {
          this.failure = { refusal: opened }
          this.stop.abort()
          return
        }
        this.#writer = opened.writer
      }
      this.#chunks += chunks.length
      await this.#writer.append(chunks)
    }).catch((err: unknown) => {
      this.failure ??= { error: err }
      this.stop.abort()
    })
  }

  /** Waits for every batch added so far to be stored (or to have failed). */
  async settled (): Promise<void> {
    await this.#tail
  }

  async commit (pages: number): Promise<{ ok: true, documentId: string, replaced: boolean }> {
    return await this.#writer!.commit(pages)
  }

  async discard (): Promise<void> {
    await this.#tail
    await this.#writer?.rollback()
  }
}

/** PDF → page-aware chunks → Postgres. Extraction runs in a worker pool; the event loop only moves bytes. */
export class Ingestion {
  constructor (
    private readonly extractor: PdfExtractor,
    private readonly documents: DocumentsRepository,
    private readonly options: IngestionOptions,
    /** Receives every upload's outcome, for /metrics. */
    private readonly onResult?: (result: IngestResult, bytes: number) => void
  ) {}

  get poolStats (): PdfExtractor['stats'] {
    return this.extractor.stats
  }

  async ingest (input: IngestInput): Promise<IngestResult> {
    const result = await this.#ingest(input)
    this.onResult?.(result, input.data.length)
    return result
  }

  async #ingest (input: IngestInput): Promise<IngestResult> {
    const t0 = performance.now()
    const stop = new AbortController()
    const save = new PipelinedSave(this.documents, {
      userId: input.userId,
      name: input.name,
      filename: input.filename,
      data: input.data,
      sha256: input.sha256 ?? createHash('sha256').update(input.data).digest(),
      maxDocuments: this.options.maxDocuments
    }, { chunkSize: this.options.chunkSizeWords, overlap: this.options.chunkOverlapWords }, stop)
    const signal = input.signal === undefined ? stop.signal : AbortSignal.any([input.signal, stop.signal])
    let pageCount
    try {
      pageCount = (await this.extractor.extract(input.data, { signal, onPages: (pages) => { save.add(pages) } })).pageCount
      await save.settled()
    } catch (err) {
      await save.discard()
      if (save.failure !== undefined) return this.#failed(save.failure)
      if (!isPdfExtractionError(err)) throw err
      if (err.code === 'PDF_ABORTED') return { ok: false, reason: 'aborted' }
      return { ok: false, reason: 'unreadable', code: err.code, message: PDF_ERROR_MESSAGES[err.code] }
    }
    const t1 = performance.now()
    if (save.failure !== undefined) {
      await save.discard()
      return this.#failed(save.failure)
    }
    if (save.chunkCount === 0) {
      await save.discard()
      return { ok: false, reason: 'unreadable', code: 'PDF_NO_TEXT', message: PDF_ERROR_MESSAGES.PDF_NO_TEXT }
    }
    // A client gone before the last page was read gets nothing stored; the commit itself completes.
    if (input.signal?.aborted === true) {
      await save.discard()
      return { ok: false, reason: 'aborted' }
    }
    let saved
    try {
      saved = await save.commit(pageCount)
    } catch (err) {
      await save.discard()
      throw err
    }
    const timings = { extractMs: Math.round(t1 - t0), chunkMs: Math.round(save.chunkMs), saveMs: Math.round(performance.now() - t1) }
    return { ok: true, documentId: saved.documentId, pages: pageCount, totalChunks: save.chunkCount, replaced: saved.replaced, timings }
  }

  #failed (failure: NonNullable<PipelinedSave['failure']>): IngestResult {
    if ('refusal' in failure) return failure.refusal
    throw failure.error
  }
}

export default fp(async (fastify) => {
  const { documents: cfg } = fastify.config
  const extractor = new PdfExtractor({
    ...(cfg.extractThreads > 0 ? { maxThreads: cfg.extractThreads } : {}),
    timeoutMs: cfg.extractTimeoutMs,
    // What one upload may cost a worker, whatever its structure: decoded stream bytes, heap, pages
    // and time (the timeout above) are each bounded inside the extraction thread.
    maxDecodedBytes: cfg.maxDecodedBytes,
    maxOldGenerationSizeMb: cfg.extractHeapMb,
    maxPages: cfg.maxPages,
    // Document info is not stored; skipping it saves a pdf.js round trip per upload.
    includeInfo: false
  })
  const registers = [fastify.metrics.registry]
  const queue = new Gauge({ name: 'ingestion_queue_depth', help: 'PDF extractions running or waiting for a thread in this worker', registers: [], collect () { this.set(extractor.stats.inFlight) } })
  fastify.metrics.registry.registerMetric(queue)
  const pages = new Counter({ name: 'ingestion_pages_total', help: 'Pages of the PDFs stored', registers })
  const bytes = new Counter({ name: 'ingestion_bytes_total', help: 'Bytes of the PDFs stored', registers })
  const extractSeconds = new Histogram({
    name: 'ingestion_extract_duration_seconds',
    help: 'Time from the start of a stored upload\'s extraction to its last page (queue wait, chunking and storing alongside included)',
    buckets: [0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60, 120],
    registers
  })
  const refusals = new Counter({
    name: 'ingestion_refusals_total',
    help: 'Uploads not stored, by reason (limit, user_gone, aborted, or the extraction error code)',
    labelNames: ['reason'] as const,
    registers
  })
  const onResult = (result: IngestResult, size: number): void => {
    if (result.ok) {
      pages.inc(result.pages)
      bytes.inc(size)
      extractSeconds.observe(result.timings.extractMs / 1000)
    } else {
      refusals.inc({ reason: result.reason === 'unreadable' ? result.code : result.reason })
    }
  }
  fastify.decorate('ingestion', new Ingestion(extractor, fastify.documentsRepository, {
    chunkSizeWords: cfg.chunkSizeWords,
    chunkOverlapWords: cfg.chunkOverlapWords,
    maxDocuments: cfg.maxPerUser
  }, onResult))
  fastify.addHook('onClose', async () => { await extractor.close() })
}, { name: 'ingestion', dependencies: ['documents-repository', 'metrics'] })

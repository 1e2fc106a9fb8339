/**
 * PDF text extraction off the main thread, with a Piscina worker pool.
 *
 * This module does not load pdf.js itself (only types are imported), so the API process
 * pays the pdf.js/canvas cost only inside worker threads.
 *
 * Worker file: by default `./pdf-extract.worker.js` next to this module, which exists
 * only in compiled output (`apps/api/dist/ingestion/`). When this module is loaded from
 * TypeScript sources (vitest), the default points at
 * `apps/api/dist/ingestion/pdf-extract.worker.js` instead, so `npm run build` (which
 * `npm test` runs first) must have been run. Pass `workerFilename` to override.
 */
import { existsSync } from 'node:fs'
import { availableParallelism } from 'node:os'
import { fileURLToPath } from 'node:url'
import { MessageChannel, type TransferListItem } from 'node:worker_threads'
import { Piscina } from 'piscina'
import { PdfExtractionError, isPdfErrorCode, toPdfExtractionError } from './errors.js'
import type { PagesMessage, PdfExtractOutcome, PdfExtractTask, PdfWorkerOptions } from './pdf-extract.worker.js'
import type { ExtractedPage, ExtractedPdf } from './pdf-text.js'

export interface ExtractCallOptions {
  /** Abort the extraction (e.g. the client went away): rejects with `PDF_ABORTED`. */
  signal?: AbortSignal
  /** Override the extractor's `timeoutMs` for this call (pool only). */
  timeoutMs?: number
  /**
   * Receives the pages in order, in batches, while the document is still being read; the result's
   * `pages` is then empty. Called on this thread's event loop; it must not throw.
   */
  onPages?: (pages: ExtractedPage[]) => void
}

/** Common interface of the pooled and the in-process extractor. */
export interface PdfTextExtractor {
  extract (data: Uint8Array, options?: ExtractCallOptions): Promise<ExtractedPdf>
  close (): Promise<void>
}

export interface PdfExtractorOptions extends PdfWorkerOptions {
  /** Absolute path or file URL of the compiled worker. Default: see module docs. */
  workerFilename?: string | URL
  /** Threads kept alive when idle (default 0: spawn on demand). */
  minThreads?: number
  /** Default: half the available CPUs, at least 2. */
  maxThreads?: number
  /** Idle time before an extra thread exits, in ms (default 30 000). */
  idleTimeout?: number
  /**
   * Extractions allowed to wait for a thread; beyond `maxThreads + maxQueue` in flight,
   * `extract` rejects with `PDF_BUSY` (default 16). Enforced here, not by Piscina: Piscina
   * 5 puts tasks that carry an AbortSignal in a separate, unbounded queue, so its own
   * `maxQueue` never applies to them (and every task here has a timeout signal).
   */
  maxQueue?: number
  /**
   * Per-call timeout in ms, measured from the `extract` call (queue wait included), default
   * 60 000. On expiry the task is aborted; if it was running its worker thread is terminated
   * (that is the only way to stop pdf.js) and the call rejects with `PDF_TIMEOUT`.
   */
  timeoutMs?: number
  /** V8 heap limit of each worker, in MB (default 128). Exceeding it rejects with `PDF_TOO_COMPLEX`. */
  maxOldGenerationSizeMb?: number
  /**
   * Called when a worker thread dies outside of a task (e.g. out of memory while starting).
   * Piscina emits those as an `'error'` event on the pool, which would crash the process
   * without a listener; the pool replaces the worker. Default: `process.emitWarning`.
   */
  onWorkerError?: (err: unknown) => void
  /**
   * `true`: transfer (detach) the caller's ArrayBuffer to the worker when the view covers it
   * entirely, avoiding one copy; the caller's buffer becomes unusable (length 0).
   * Default `false`: the bytes are copied once and the copy is transferred.
   */
  transferOwnership?: boolean
}

const WORKER_BASENAME = 'pdf-extract.worker.js'

/** Where the compiled worker lives, relative to this module (src → ../../dist mapping for vitest). */
export function defaultWorkerFilename (): URL {
  const here = import.meta.url
  return here.endsWith('.ts')
    ? new URL(`../../dist/ingestion/${WORKER_BASENAME}`, here)
    : new URL(`./${WORKER_BASENAME}`, here)
}

/**
 * Half the CPUs, but at least 2: with one thread, a document that takes long (a legitimate 7,000-page
 * file, or one made to be slow until the timeout) would make every other upload of this worker wait
 * behind it; with two, the next upload shares the CPU instead of queueing.
 */
function defaultMaxThreads (): number {
  return Math.max(2, Math.floor(availableParallelism() / 2))
}

/** A `Uint8Array` that exclusively owns its (non-shared) ArrayBuffer, suitable for transfer. */
function transferableCopy (data: Uint8Array, reuse: boolean): Uint8Array {
  if (
    reuse &&
    !(data instanceof Buffer) && // Buffers may share Node's internal pool
    data.buffer instanceof ArrayBuffer &&
    data.byteOffset === 0 &&
    data.byteLength === data.buffer.byteLength
  ) {
    return data
  }
  return new Uint8Array(data)
}

export class PdfExtractor implements PdfTextExtractor {
  readonly #pool: Piscina<PdfExtractTask, PdfExtractOutcome>
  readonly #timeoutMs: number
  readonly #workerOptions: PdfWorkerOptions
  readonly #transferOwnership: boolean
  readonly #capacity: number
  #inFlight = 0
  #closed = false

  constructor (options: PdfExtractorOptions = {}) {
    const filename = options.workerFilename ?? defaultWorkerFilename()
    const path = filename instanceof URL || filename.startsWith('file:') ? fileURLToPath(filename) : filename
    if (!existsSync(path)) {
      throw new Error(`PDF worker not found at ${path}: build apps/api first (npm run build)`)
    }
    const maxThreads = options.maxThreads ?? defaultMaxThreads()
    this.#pool = new Piscina<PdfExtractTask, PdfExtractOutcome>({
      filename: path,
      name: 'default',
      minThreads: Math.min(options.minThreads ?? 0, maxThreads),
      maxThreads,
      idleTimeout: options.idleTimeout ?? 30_000,
      resourceLimits: { maxOldGenerationSizeMb: options.maxOldGenerationSizeMb ?? 128 }
    })
    const onWorkerError = options.onWorkerError ??
      ((err: unknown) => process.emitWarning(`PDF extraction worker failed: ${err instanceof Error ? err.message : String(err)}`))
    this.#pool.on('error', (err: unknown) => onWorkerError(err))
    this.#timeoutMs = options.timeoutMs ?? 60_000
    this.#capacity = maxThreads + Math.max(0, options.maxQueue ?? 16)
    this.#transferOwnership = options.transferOwnership ?? false
    this.#workerOptions = {}
    if (options.maxPages !== undefined) this.#workerOptions.maxPages = options.maxPages
    if (options.maxDecodedBytes !== undefined) this.#workerOptions.maxDecodedBytes = options.maxDecodedBytes
    if (options.includeInfo !== undefined) this.#workerOptions.includeInfo = options.includeInfo
  }

  /** Pool figures for health/metrics endpoints. */
  get stats (): { threads: number, inFlight: number, capacity: number, completed: number, utilization: number } {
    const pool = this.#pool
    return { threads: pool.threads.length, inFlight: this.#inFlight, capacity: this.#capacity, completed: pool.completed, utilization: pool.utilization }
  }

  get closed (): boolean {
    return this.#closed
  }

  /**
   * Extract the text of a PDF in a worker thread.
   * Rejects with `PdfExtractionError` (see `PdfErrorCode`).
   */
  async extract (data: Uint8Array, { signal, timeoutMs = this.#timeoutMs, onPages }: ExtractCallOptions = {}): Promise<ExtractedPdf> {
    if (this.#closed) throw new PdfExtractionError('PDF_EXTRACTOR_CLOSED', 'The PDF extractor is closed')
    if (signal?.aborted) throw new PdfExtractionError('PDF_ABORTED', 'PDF extraction was aborted', { cause: signal.reason })
    if (this.#inFlight >= this.#capacity) {
      throw new PdfExtractionError('PDF_BUSY', 'Too many PDFs are being processed; try again later')
    }

    const bytes = transferableCopy(data, this.#transferOwnership)
    const timeout = new AbortController()
    const timer = setTimeout(() => timeout.abort(), timeoutMs)
    const runSignal = signal ? AbortSignal.any([signal, timeout.signal]) : timeout.signal
    const pages = onPages === undefined ? undefined : new MessageChannel()
    // Resolves once every batch has been delivered: the port and Piscina's result travel separately.
    const delivered = pages === undefined
      ? undefined
      : new Promise<void>((resolve) => {
        pages.port1.on('message', (message: PagesMessage) => { if (message === 'end') resolve(); else onPages!(message) })
        pages.port1.once('close', () => resolve())
      })
    this.#inFlight++
    try {
      const task: PdfExtractTask = { data: bytes, options: this.#workerOptions }
      const transferList: TransferListItem[] = [bytes.buffer as ArrayBuffer]
      if (pages !== undefined) {
        task.pagesPort = pages.port2
        transferList.push(pages.port2)
      }
      const outcome = await this.#pool.run(task, { transferList, signal: runSignal })
      if (outcome.ok) {
        await delivered
        return outcome.result
      }
      const code = isPdfErrorCode(outcome.error.code) ? outcome.error.code : 'PDF_EXTRACT_FAILED'
      throw new PdfExtractionError(code, outcome.error.message)
    } catch (err) {
      throw this.#mapPoolError(err, timeout.signal, signal, timeoutMs)
    } finally {
      clearTimeout(timer)
      pages?.port1.close()
      this.#inFlight--
    }
  }

  #mapPoolError (err: unknown, timeoutSignal: AbortSignal, callerSignal: AbortSignal | undefined, timeoutMs: number): PdfExtractionError {
    if (err instanceof PdfExtractionError) return err
    if (callerSignal?.aborted) {
      return new PdfExtractionError('PDF_ABORTED', 'PDF extraction was aborted', { cause: err })
    }
    if (timeoutSignal.aborted) {
      return new PdfExtractionError('PDF_TIMEOUT', `PDF extraction timed out after ${timeoutMs} ms`, { cause: err })
    }
    if (this.#closed) {
      return new PdfExtractionError('PDF_EXTRACTOR_CLOSED', 'The PDF extractor was closed', { cause: err })
    }
    const message = err instanceof Error ? err.message : String(err)
    const code = (err as { code?: unknown } | null)?.code
    if (message === 'Task queue is at limit' || message.startsWith('No task queue available')) {
      return new PdfExtractionError('PDF_BUSY', 'Too many PDFs are being processed; try again later', { cause: err })
    }
    if (code === 'ERR_WORKER_OUT_OF_MEMORY') {
      return new PdfExtractionError('PDF_TOO_COMPLEX', 'The PDF is too large or complex to process (worker out of memory)', { cause: err })
    }
    return toPdfExtractionError(err)
  }

  /** Stop all workers; running and queued extractions reject with `PDF_EXTRACTOR_CLOSED`. Idempotent. */
  async close (): Promise<void> {
    if (this.#closed) return
    this.#closed = true
    await this.#pool.destroy()
  }
}

/**
 * Same interface, but extracts on the calling thread (loads pdf.js lazily). For tests,
 * scripts and development without a build. No timeout (pdf.js cannot be interrupted
 * mid-page); `signal` is honoured between pages.
 */
export class InProcessPdfExtractor implements PdfTextExtractor {
  readonly #options: PdfWorkerOptions
  #closed = false

  constructor (options: PdfWorkerOptions = {}) {
    this.#options = { ...options }
  }

  async extract (data: Uint8Array, { signal, onPages }: ExtractCallOptions = {}): Promise<ExtractedPdf> {
    if (this.#closed) throw new PdfExtractionError('PDF_EXTRACTOR_CLOSED', 'The PDF extractor is closed')
    const { extractPdfText } = await import('./pdf-text.js')
    return await extractPdfText(data, { ...this.#options, ...(signal ? { signal } : {}), ...(onPages ? { onPages } : {}) })
  }

  async close (): Promise<void> {
    this.#closed = true
  }
}

/**
 * pdf.js with a budget on what its stream decoders produce, so that no PDF, whatever its structure,
 * can make an extraction thread inflate more than a fixed number of bytes.
 *
 * pdf.js decodes every filtered stream it reads (content streams, fonts, CMaps, object and xref
 * streams; images are not decoded for text) with a subclass of its internal `DecodeStream`: Flate,
 * LZW, ASCII85, ASCIIHex, RunLength, CCITTFax, the PNG/TIFF predictors and decryption, in any chain
 * and however the filters are named or referenced. All of them grow their output through one method,
 * `DecodeStream.prototype.ensureBuffer`, which doubles the buffer. Charging each growth against a
 * budget therefore bounds the bytes decoded where the decoding happens, in the same pass that
 * extracts the text (no separate pre-scan of the file that could read it differently).
 *
 * pdf.js does not export `DecodeStream`. In Node it runs its "worker" in the calling thread and
 * takes the worker module from `globalThis.pdfjsWorker` when set, so this module loads pdf.js'
 * own worker module with one statement added in front of that allocation, and installs it there.
 * If a pdf.js upgrade changes the method, loading fails loudly instead of running unbounded.
 */
import { readFileSync } from 'node:fs'
import { createRequire } from 'node:module'
import { PdfExtractionError } from './errors.js'

/** The global through which the charged pdf.js code reaches the running extraction's budget. */
const HOOK_KEY = 'documind.pdfjs.decodeBudget'
const HOOK = Symbol.for(HOOK_KEY)

/** The allocation in `DecodeStream.prototype.ensureBuffer` (pdfjs-dist 5.x, legacy build). */
const ALLOCATION = `    const buffer2 = new Uint8Array(size);
    buffer2.set(buffer);
    return this.buffer = buffer2;`
const CHARGED_ALLOCATION = `    globalThis[Symbol.for('${HOOK_KEY}')]?.(size - buffer.byteLength);
${ALLOCATION}`

/** The worker module of the pdfjs-dist that pdf-parse itself imports (the API and worker versions must match). */
function pdfjsWorkerPath (): string {
  const fromHere = createRequire(import.meta.url)
  const fromPdfParse = createRequire(fromHere.resolve('pdf-parse'))
  return fromPdfParse.resolve('pdfjs-dist/legacy/build/pdf.worker.mjs')
}

/** pdf.js' worker source with the budget charge added; throws if the allocation is not found exactly once. */
export function chargedWorkerSource (source: Buffer): Buffer {
  const at = source.indexOf(ALLOCATION)
  if (at === -1 || source.indexOf(ALLOCATION, at + 1) !== -1) {
    throw new Error('pdf.js decode budget: DecodeStream.ensureBuffer\'s allocation is not in pdf.worker.mjs exactly once; pdfjs-dist changed, update pdfjs-decode-budget.ts')
  }
  return Buffer.concat([source.subarray(0, at), Buffer.from(CHARGED_ALLOCATION), source.subarray(at + ALLOCATION.length)])
}

let installed: Promise<void> | undefined

/** Makes pdf.js (in this thread) use the charged worker module. Idempotent; call before the first document is opened. */
export async function installDecodeBudget (): Promise<void> {
  installed ??= (async () => {
    // Bytes, not strings, until the one base64 string the import needs: extraction threads run on a small heap.
    const source = chargedWorkerSource(readFileSync(pdfjsWorkerPath()))
    const worker = await import(`data:text/javascript;base64,${source.toString('base64')}`) as { WorkerMessageHandler: unknown }
    ;(globalThis as { pdfjsWorker?: unknown }).pdfjsWorker = worker
  })()
  await installed
}

/** What one extraction may decode, and what it has decoded so far. */
export class DecodeBudget {
  usedBytes = 0

  constructor (readonly limitBytes: number) {}

  /** Sticky: pdf.js swallows many errors and carries on, so the caller checks this after every step. */
  get exceeded (): boolean {
    return this.usedBytes > this.limitBytes
  }

  charge (bytes: number): void {
    this.usedBytes += bytes
    if (this.exceeded) throw this.error()
  }

  error (): PdfExtractionError {
    return new PdfExtractionError('PDF_TOO_COMPLEX', `The PDF is too large to process: its streams decode to more than ${this.limitBytes} bytes`)
  }

  /** Throws the budget's error if it was exceeded, even where pdf.js caught it. */
  assertWithin (): void {
    if (this.exceeded) throw this.error()
  }
}

/** The extraction running in this thread; the next one waits for it (see `withDecodeBudget`). */
let running: Promise<unknown> = Promise.resolve()

/**
 * Runs `fn` with `budget` charged for every decoder allocation of this thread. Extractions in one
 * thread run one after the other: the charge cannot tell documents apart. (The worker pool gives
 * each thread one task at a time anyway.)
 */
export async function withDecodeBudget<T> (budget: DecodeBudget, fn: () => Promise<T>): Promise<T> {
  const run = running.catch(() => {}).then(async () => {
    const hooks = globalThis as unknown as Record<symbol, ((bytes: number) => void) | undefined>
    hooks[HOOK] = (bytes) => { budget.charge(bytes) }
    try {
      const result = await fn()
      budget.assertWithin()
      return result
    } finally {
      hooks[HOOK] = undefined
    }
  })
  running = run
  return await run
}

import { execFile, spawn } from 'node:child_process'
import { mkdtemp, readFile, rm } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { APIConnectionError, APIConnectionTimeoutError, APIError, APIUserAbortError, toFile } from 'groq-sdk'
import type Groq from 'groq-sdk'
import type { GroqCalls } from '../../../lib/groq-calls.js'
import type { SpeechLanguage } from './speech-text.js'
import { splitForSynthesis } from './speech-text.js'
import { joinWavs } from './speech-wav.js'

export type SpeechEngineId = 'groq' | 'espeak'

/** What the API reports in `engine`: the engine that really ran. */
export const ENGINE_NAMES: Record<SpeechEngineId, string> = { groq: 'Groq TTS', espeak: 'espeak-ng' }

/**
 * - unavailable: no engine is configured (503)
 * - busy / timeout / upstream: the provider refused, stalled or failed; worth retrying later
 * - rejected: the provider refused this input (unreadable audio, text it cannot speak)
 * - aborted: the caller went away or the service is closing
 */
export type SpeechErrorKind = 'unavailable' | 'busy' | 'timeout' | 'upstream' | 'rejected' | 'aborted'

export class SpeechError extends Error {
  constructor (readonly kind: SpeechErrorKind, message: string, options: { cause?: unknown, retryAfterSeconds?: number } = {}) {
    super(message, { cause: options.cause })
    this.retryAfterSeconds = options.retryAfterSeconds
  }

  readonly retryAfterSeconds: number | undefined
}

type Service = 'speech-to-text' | 'text-to-speech'

/** Turns groq-sdk errors (and our own deadline) into messages a user can act on. */
export function toSpeechError (err: unknown, service: Service, deadline?: AbortSignal): SpeechError {
  if (err instanceof SpeechError) return err
  const label = service === 'speech-to-text' ? 'The speech-to-text service' : 'The text-to-speech service'
  if (err instanceof APIUserAbortError || (err instanceof Error && err.name === 'AbortError')) {
    if (deadline?.aborted === true) return new SpeechError('timeout', `${label} did not respond in time. Please try again.`, { cause: err })
    return new SpeechError('aborted', 'The request was cancelled.', { cause: err })
  }
  if (err instanceof APIConnectionTimeoutError) {
    return new SpeechError('timeout', `${label} did not respond in time. Please try again.`, { cause: err })
  }
  if (err instanceof APIConnectionError) {
    return new SpeechError('upstream', `${label} could not be reached. Please try again later.`, { cause: err })
  }
  if (err instanceof APIError) {
    const status = err.status ?? 0
    if (status === 429) {
      const retryAfter = Number(err.headers?.get('retry-after'))
      return new SpeechError('busy', `${label} is busy right now. Please try again in a moment.`, {
        cause: err,
        ...(Number.isFinite(retryAfter) && retryAfter > 0 ? { retryAfterSeconds: Math.ceil(retryAfter) } : {})
      })
    }
    if (status === 400 || status === 413 || status === 415 || status === 422) {
      const what = service === 'speech-to-text' ? 'Could not transcribe audio' : 'Could not synthesize this text'
      return new SpeechError('rejected', `${what}: ${err.message}`, { cause: err })
    }
    // 401/403 are a server configuration problem, reported like an outage rather than blamed on the user.
    return new SpeechError('upstream', `${label} is unavailable right now. Please try again later.`, { cause: err })
  }
  return new SpeechError('upstream', `${label} failed. Please try again later.`, { cause: err })
}

export interface GroqSpeechOptions {
  sttModel: string
  ttsModel: string
  ttsVoice: string
  maxInputChars: number
  /** Whole-call deadline: the SDK's timeout covers each attempt until headers, not a body that stalls. */
  deadlineMs: number
  /** Timing of the Groq calls, for /metrics. */
  calls?: GroqCalls
}

export interface Transcript {
  text: string
  language: string | undefined
  duration: number
}

/** Runs `fn` with a signal that fires on the caller's abort or when the deadline passes. */
async function withDeadline<T> (deadlineMs: number, signal: AbortSignal | undefined, service: Service, fn: (signal: AbortSignal) => Promise<T>): Promise<T> {
  const deadline = AbortSignal.timeout(deadlineMs)
  const combined = signal === undefined ? deadline : AbortSignal.any([signal, deadline])
  try {
    return await fn(combined)
  } catch (err) {
    throw toSpeechError(err, service, deadline)
  }
}

/** Runs `fn` over the items with at most `limit` in flight, keeping the order of results. */
async function mapLimit<T, R> (items: T[], limit: number, fn: (item: T) => Promise<R>): Promise<R[]> {
  const results: R[] = new Array<R>(items.length)
  let next = 0
  const workers = Array.from({ length: Math.min(limit, items.length) }, async () => {
    while (next < items.length) {
      const index = next++
      results[index] = await fn(items[index]!)
    }
  })
  await Promise.all(workers)
  return results
}

/** Groq's parallel speech calls per synthesis: long answers go faster without one request hogging the account's rate. */
const GROQ_TTS_PARALLEL = 3

export class GroqSpeech {
  constructor (private readonly groq: Groq, private readonly opts: GroqSpeechOptions) {}

  /** Times the call, whatever its end; failures are counted by the kind users are told (SpeechError). */
  async #timed<T> (kind: 'transcription' | 'speech', call: Promise<T>): Promise<T> {
    const start = performance.now()
    try {
      const result = await call
      this.opts.calls?.observe(kind, 'ok', (performance.now() - start) / 1000)
      return result
    } catch (err) {
      this.opts.calls?.observe(kind, err instanceof SpeechError ? err.kind : 'upstream', (performance.now() - start) / 1000)
      throw err
    }
  }

  async transcribe (input: { bytes: Buffer, filename: string, contentType: string, language?: string | undefined, signal?: AbortSignal | undefined }): Promise<Transcript> {
    return await this.#timed('transcription', this.#transcribe(input))
  }

  async synthesize (text: string, signal?: AbortSignal): Promise<Buffer> {
    return await this.#timed('speech', this.#synthesize(text, signal))
  }

  async #transcribe (input: { bytes: Buffer, filename: string, contentType: string, language?: string | undefined, signal?: AbortSignal | undefined }): Promise<Transcript> {
    return withDeadline(this.opts.deadlineMs, input.signal, 'speech-to-text', async (signal) => {
      const file = await toFile(input.bytes, input.filename, { type: input.contentType })
      const result = await this.groq.audio.transcriptions.create({
        file,
        model: this.opts.sttModel,
        // verbose_json adds the detected language and the duration.
        response_format: 'verbose_json',
        ...(input.language === undefined ? {} : { language: input.language })
      }, { signal }) as { text?: unknown, language?: unknown, duration?: unknown }
      return {
        text: typeof result.text === 'string' ? result.text.trim() : '',
        language: typeof result.language === 'string' ? result.language : undefined,
        duration: typeof result.duration === 'number' && Number.isFinite(result.duration) ? result.duration : 0
      }
    })
  }

  async #synthesize (text: string, signal?: AbortSignal): Promise<Buffer> {
    return withDeadline(this.opts.deadlineMs, signal, 'text-to-speech', async (combined) => {
      const pieces = splitForSynthesis(text, this.opts.maxInputChars)
      const clips = await mapLimit(pieces, GROQ_TTS_PARALLEL, async (piece) => {
        const response = await this.groq.audio.speech.create({
          model: this.opts.ttsModel,
          voice: this.opts.ttsVoice,
          input: piece,
          response_format: 'wav'
        }, { signal: combined })
        return Buffer.from(await response.arrayBuffer())
      })
      return joinWavs(clips)
    })
  }
}

/** espeak-ng voices for the languages the UI offers. */
const ESPEAK_VOICES: Record<SpeechLanguage, string> = { en: 'en-us', kn: 'kn', hi: 'hi' }

/** Probes the binary with `--version`; null when it is missing or broken. */
export async function detectEspeak (path: string): Promise<{ version: string } | null> {
  if (path === '') return null
  return new Promise((resolve) => {
    execFile(path, ['--version'], { timeout: 3000, maxBuffer: 64 * 1024 }, (err, stdout) => {
      if (err !== null) {
        resolve(null)
        return
      }
      resolve({ version: String(stdout).split('\n')[0]?.trim() ?? '' })
    })
  })
}

export interface EspeakOptions {
  path: string
  timeoutMs: number
}

export class EspeakSpeech {
  constructor (private readonly opts: EspeakOptions) {}

  async synthesize (text: string, language: SpeechLanguage, signal?: AbortSignal): Promise<Buffer> {
    const dir = await mkdtemp(join(tmpdir(), 'documind-tts-'))
    const out = join(dir, 'speech.wav')
    try {
      await new Promise<void>((resolve, reject) => {
        // Text goes through stdin, never argv, so a leading "-" cannot become an option. -b 1: UTF-8 input.
        const child = spawn(this.opts.path, ['-v', ESPEAK_VOICES[language], '-b', '1', '-w', out, '--stdin'], {
          stdio: ['pipe', 'ignore', 'pipe'],
          timeout: this.opts.timeoutMs,
          ...(signal === undefined ? {} : { signal })
        })
        let stderr = ''
        child.stderr.setEncoding('utf8')
        child.stderr.on('data', (chunk: string) => { if (stderr.length < 2000) stderr += chunk })
        child.stdin.on('error', () => {}) // EPIPE when the child dies early; reported through 'close'
        child.on('error', (err) => reject(err))
        child.on('close', (code, sig) => {
          if (code === 0) resolve()
          else if (signal?.aborted === true) reject(new SpeechError('aborted', 'The request was cancelled.'))
          else if (sig !== null) reject(new SpeechError('timeout', 'The text-to-speech engine did not finish in time.'))
          else reject(new SpeechError('upstream', `The text-to-speech engine failed (exit code ${String(code)}).`, { cause: new Error(stderr.trim()) }))
        })
        child.stdin.end(text, 'utf8')
      })
      return await readFile(out)
    } catch (err) {
      if (err instanceof SpeechError) throw err
      if (err instanceof Error && err.name === 'AbortError') throw new SpeechError('aborted', 'The request was cancelled.', { cause: err })
      throw new SpeechError('upstream', 'The text-to-speech engine failed.', { cause: err })
    } finally {
      await rm(dir, { recursive: true, force: true })
    }
  }
}

import fp from 'fastify-plugin'
import type { SpeechConfig } from '../../../config.js'
import { groqCalls } from '../../../lib/groq-calls.js'
import { throttledWarning } from '../../../lib/throttled-warning.js'
import { newAudioId } from './audio-store.js'
import { ENGINE_NAMES, EspeakSpeech, GroqSpeech, SpeechError, detectEspeak, type SpeechEngineId, type Transcript } from './speech-engines.js'
import { SPEECH_LANGUAGES, cleanForSpeech, resolveLanguage, truncateForSpeech, type SpeechLanguage } from './speech-text.js'
import { wavDuration } from './speech-wav.js'

declare module 'fastify' {
  interface FastifyInstance {
    speech: SpeechService
  }
}

export interface SynthesizedSpeech {
  bytes: Buffer
  engine: SpeechEngineId
  /** Seconds. */
  duration: number
  language: SpeechLanguage
  /** The text was longer than TTS_MAX_CHARS and only its beginning was spoken. */
  truncated: boolean
}

/** What /speak and /voice-query return about a stored clip (the field names clients read). */
export interface SpokenAudio {
  audio_url: string
  filename: string
  duration: number
  language: SpeechLanguage
  language_name: string
  engine: string
  truncated: boolean
}

/** /ask's `audio` object ({url, generating, audio_id}); the file appears at `url` once synthesis finishes. */
export interface AnswerAudio {
  url: string
  generating: true
  audio_id: string
}

export interface SpeechService {
  readonly engines: { groq: boolean, espeak: { version: string } | null }
  readonly canTranscribe: boolean
  readonly canSynthesize: boolean
  /** Throws SpeechError('unavailable') without GROQ_API_KEY. */
  transcribe: (input: { bytes: Buffer, filename: string, contentType: string, language?: string | undefined, signal?: AbortSignal | undefined }) => Promise<Transcript>
  /** Markdown in, WAV out; `language` may be 'auto' (detected) or anything else (unsupported → English). */
  synthesize: (input: { text: string, language?: string | null | undefined, signal?: AbortSignal | undefined }) => Promise<SynthesizedSpeech>
  /** Synthesizes and stores the clip under a new unguessable name. */
  speak: (input: { userId: string, text: string, language?: string | null | undefined, signal?: AbortSignal | undefined }) => Promise<SpokenAudio>
  /**
   * Queues the answer's audio and returns its future URL at once, or null when there is no speech
   * engine or the queue is full (the UI then shows no player and offers /speak on demand).
   */
  scheduleAnswerAudio: (input: { userId: string, text: string, language?: string | null | undefined }) => AnswerAudio | null
  /** Resolves once no background job is queued or running. */
  drain: () => Promise<void>
}

export const SPEECH_UNAVAILABLE_MESSAGE = 'Text-to-speech is not available on this server: set GROQ_API_KEY or install espeak-ng.'
export const TRANSCRIPTION_UNAVAILABLE_MESSAGE = 'Speech-to-text is not available on this server: GROQ_API_KEY is not set.'

/** How long a closing worker lets running answer-audio jobs finish before aborting them. */
const CLOSE_FINISH_MS = 2000

/** espeak-ng runs locally and fast; anything longer than this is stuck. */
const ESPEAK_TIMEOUT_MS = 60_000

export default fp<SpeechConfig>(async (fastify, opts) => {
  const { groq: groqConfig } = fastify.config
  const groq = fastify.groq === null
    ? null
    : new GroqSpeech(fastify.groq, {
      sttModel: opts.sttModel,
      ttsModel: opts.ttsModel,
      ttsVoice: opts.ttsVoice,
      maxInputChars: opts.groqTtsMaxInputChars,
      // Every attempt the SDK may make, plus a little for reading the body.
      deadlineMs: groqConfig.timeoutMs * (groqConfig.maxRetries + 1) + 1000,
      calls: groqCalls(fastify.metrics.registry)
    })
  const espeakVersion = await detectEspeak(opts.espeakPath)
  const espeak = espeakVersion === null ? null : new EspeakSpeech({ path: opts.espeakPath, timeoutMs: ESPEAK_TIMEOUT_MS })
  fastify.log.info({ groq: groq !== null, espeak: espeakVersion?.version ?? null }, 'speech engines')

  async function synthesize (input: { text: string, language?: string | null | undefined, signal?: AbortSignal | undefined }): Promise<SynthesizedSpeech> {
    // Markup takes room too: cleaning more than a few times the spoken length is wasted work.
    const budget = opts.maxChars * 4
    const cut = truncateForSpeech(cleanForSpeech(input.text.slice(0, budget)), opts.maxChars)
    const { text } = cut
    const truncated = cut.truncated || input.text.length > budget
    if (text === '') throw new SpeechError('rejected', 'No text to speak')
    const language = resolveLanguage(input.language, text)
    // Groq's voices speak English; Kannada and Hindi go to espeak-ng when it is installed.
    const order: SpeechEngineId[] = language === 'en' ? ['groq', 'espeak'] : ['espeak', 'groq']
    const engines = order.filter((id) => (id === 'groq' ? groq : espeak) !== null)
    if (engines.length === 0) throw new SpeechError('unavailable', SPEECH_UNAVAILABLE_MESSAGE)
    let lastError: unknown
    for (const engine of engines) {
      try {
        const bytes = engine === 'groq' ? await groq!.synthesize(text, input.signal) : await espeak!.synthesize(text, language, input.signal)
        return { bytes, engine, duration: Math.round((wavDuration(bytes) ?? 0) * 100) / 100, language, truncated }
      } catch (err) {
        if (err instanceof SpeechError && err.kind === 'aborted') throw err
        // A failed engine is not the end: the next engine, if any, gets a try.
        fastify.log.warn({ err, engine }, 'speech synthesis failed')
        lastError = err
      }
    }
    throw lastError
  }

  async function speak (input: { userId: string, text: string, language?: string | null | undefined, signal?: AbortSignal | undefined }): Promise<SpokenAudio> {
    const speech = await synthesize(input)
    const filename = `${speech.engine}_${speech.language}_${newAudioId()}.wav`
    await fastify.audioStore.save({ userId: input.userId, filename, bytes: speech.bytes })
    return {
      audio_url: `/audio/${filename}`,
      filename,
      duration: speech.duration,
      language: speech.language,
      language_name: SPEECH_LANGUAGES[speech.language],
      engine: ENGINE_NAMES[speech.engine],
      truncated: speech.truncated
    }
  }

  // Background answer audio: a small in-process queue, so a burst of /ask calls cannot start
  // unbounded synthesis. A failed or dropped job's URL simply never appears (the UI stops polling).
  interface Job { userId: string, text: string, language: string | null | undefined, filename: string }
  const queue: Job[] = []
  const running = new Set<Promise<void>>()
  const closing = new AbortController()
  let accepting = true
  let idleWaiters: Array<() => void> = []

  function pump (): void {
    while (running.size < opts.concurrency && queue.length > 0 && !closing.signal.aborted) {
      const job = queue.shift()!
      const task = (async () => {
        try {
          const speech = await synthesize({ text: job.text, language: job.language, signal: closing.signal })
          await fastify.audioStore.save({ userId: job.userId, filename: job.filename, bytes: speech.bytes })
        } catch (err) {
          if (!closing.signal.aborted) fastify.log.warn({ err, filename: job.filename }, 'answer audio not generated')
        }
      })()
      running.add(task)
      // task never rejects (its errors are logged inside).
      task.finally(() => {
        running.delete(task)
        pump()
      }).catch(() => {})
    }
    if (running.size === 0 && queue.length === 0) {
      const waiters = idleWaiters
      idleWaiters = []
      for (const resolve of waiters) resolve()
    }
  }

  let droppedAudio = 0
  const warnQueueFull = throttledWarning(() => {
    fastify.log.warn({ queued: queue.length, dropped: droppedAudio }, 'answer audio queue full, answers sent without audio')
    droppedAudio = 0
  })
  const service: SpeechService = {
    engines: { groq: groq !== null, espeak: espeakVersion },
    canTranscribe: groq !== null,
    canSynthesize: groq !== null || espeak !== null,
    async transcribe (input) {
      if (groq === null) throw new SpeechError('unavailable', TRANSCRIPTION_UNAVAILABLE_MESSAGE)
      return groq.transcribe(input)
    },
    synthesize,
    speak,
    scheduleAnswerAudio (input) {
      if (!service.canSynthesize || !accepting) return null
      if (queue.length >= opts.queueMax) {
        // Under load this happens per request: one line per 10 s with the count keeps the log readable.
        droppedAudio++
        warnQueueFull()
        return null
      }
      const audioId = newAudioId()
      const filename = `auto_${audioId}.wav`
      queue.push({ userId: input.userId, text: input.text, language: input.language, filename })
      // Started on the next tick, so the /ask reply is not delayed by the first engine call.
      setImmediate(pump)
      return { url: `/audio/${filename}`, generating: true, audio_id: audioId }
    },
    async drain () {
      if (running.size === 0 && queue.length === 0) return
      await new Promise<void>((resolve) => { idleWaiters.push(resolve) })
    }
  }
  fastify.decorate('speech', service)

  fastify.addHook('onClose', async () => {
    // Waiting jobs are dropped; running ones (usually well under a second) may finish for a moment,
    // so a rolling restart does not lose the audio of answers just sent. Then they are aborted.
    accepting = false
    queue.length = 0
    if (running.size > 0) {
      let timer: NodeJS.Timeout | undefined
      await Promise.race([
        Promise.allSettled([...running]),
        new Promise((resolve) => { timer = setTimeout(resolve, CLOSE_FINISH_MS) })
      ])
      clearTimeout(timer)
    }
    closing.abort()
    await Promise.allSettled([...running])
  })
}, { name: 'speech', dependencies: ['groq', 'audio-store', 'metrics'] })

/** `POST /audio/speech`: a deterministic tone clip as WAV that carries its input text for the transcription endpoint. */
import type { IncomingMessage } from 'node:http'
import { sleepUntil } from '../faults.js'
import { badRequest, parseJsonBody, requireString, sendBytes } from '../http.js'
import type { MockState, PreparedRequest } from '../state.js'
import { encodeWav, synthesizeTone } from '../wav.js'
import { TRANSCRIPT_MARKER } from './transcriptions.js'

const MAX_SPEECH_INPUT = 10_000
const SPEECH_SAMPLE_RATES = new Set([8000, 16000, 22050, 24000, 32000, 44100, 48000])

interface SpeechRequest {
  model: string
  input: string
  sampleRate: number
  speed: number
}

/** Builds the `LIST/INFO/ICMT` chunk that embeds `TRANSCRIPT:<text>` in generated speech. */
function transcriptChunk (text: string): { id: string, data: Buffer } {
  // eslint-disable-next-line no-control-regex
  const clean = text.replace(/[\u0000-\u001f\u007f]+/g, ' ').replace(/\s+/g, ' ').trim()
  const comment = Buffer.from(`${TRANSCRIPT_MARKER}${clean}\0`, 'utf8')
  const pad = comment.length % 2
  const data = Buffer.alloc(4 + 8 + comment.length + pad)
  data.write('INFO', 0, 'ascii')
  data.write('ICMT', 4, 'ascii')
  data.writeUInt32LE(comment.length, 8)
  comment.copy(data, 12)
  return { id: 'LIST', data }
}

/** Validates the body; without `sample_rate` the clip uses the `speechSampleRate` option. */
function parseSpeech (req: IncomingMessage, body: Buffer, defaultSampleRate: number): SpeechRequest {
  const json = parseJsonBody(req, body)
  const model = requireString(json, 'model')
  const input = requireString(json, 'input')
  requireString(json, 'voice')
  if (input.length > MAX_SPEECH_INPUT) throw badRequest(`'input' must be at most ${MAX_SPEECH_INPUT} characters`)
  const format = json.response_format ?? 'wav'
  if (format !== 'wav') throw badRequest(`the Groq mock only produces wav audio (response_format: ${String(format)})`)
  let sampleRate = defaultSampleRate
  if (json.sample_rate !== undefined) {
    if (typeof json.sample_rate !== 'number' || !SPEECH_SAMPLE_RATES.has(json.sample_rate)) {
      throw badRequest(`sample_rate must be one of ${[...SPEECH_SAMPLE_RATES].join(', ')}`)
    }
    sampleRate = json.sample_rate
  }
  let speed = 1
  if (json.speed !== undefined) {
    if (typeof json.speed !== 'number' || !(json.speed >= 0.5 && json.speed <= 5)) {
      throw badRequest('speed must be a number between 0.5 and 5')
    }
    speed = json.speed
  }
  return { model, input, sampleRate, speed }
}

export function prepareSpeech (req: IncomingMessage, body: Buffer, state: MockState): PreparedRequest {
  const p = parseSpeech(req, body, state.opts.speechSampleRate)
  return {
    model: p.model,
    respond: async (res, ctx, latency) => {
      if (!await sleepUntil(ctx.start + latency, ctx.signal)) return
      // The clip's shape follows the options in force when the reply is due.
      const { speechMsPerChar, speechMaxMs } = state.opts
      const samples = synthesizeTone(p.input, {
        sampleRate: p.sampleRate,
        msPerChar: speechMsPerChar,
        maxMs: speechMaxMs,
        minMs: Math.min(200, speechMaxMs),
        speed: p.speed
      })
      const wav = encodeWav(samples, { sampleRate: p.sampleRate, trailingChunks: [transcriptChunk(p.input)] })
      state.record(ctx, 'ok')
      sendBytes(res, 200, 'audio/wav', wav)
    }
  }
}

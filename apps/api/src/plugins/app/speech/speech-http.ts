import type { FastifyReply, FastifyRequest } from 'fastify'
import { SpeechError } from './speech-engines.js'

// HTTP helpers shared by the voice routes (/transcribe, /speak, /voice-query).

/** Groq's upload limit for speech-to-text; larger recordings are refused before they reach it. */
export const MAX_AUDIO_UPLOAD_BYTES = 25 * 1024 * 1024
export const AUDIO_TOO_LARGE_MESSAGE = 'Audio file too large. Maximum size is 25MB.'

/** Extensions Whisper accepts; it infers the format from the name, so anything else is sent as .wav. */
const WHISPER_EXTENSIONS = new Set(['flac', 'mp3', 'mp4', 'mpeg', 'mpga', 'm4a', 'ogg', 'opus', 'wav', 'webm'])

export type AudioUpload =
  | { ok: true, bytes: Buffer, filename: string, contentType: string, fields: Record<string, string> }
  | { ok: false, status: 200 | 413, message: string }

function uploadName (original: string): string {
  const ext = original.slice(original.lastIndexOf('.') + 1).toLowerCase()
  return WHISPER_EXTENSIONS.has(ext) && original.includes('.') ? `audio.${ext}` : 'audio.wav'
}

/**
 * Reads the multipart `audio` file (and the text fields) of /transcribe and /voice-query, answering
 * with the messages clients show ("No audio file provided", ...). @fastify/multipart truncates an oversized file silently, so
 * `truncated` is checked and turned into a 413.
 */
export async function readAudioUpload (request: FastifyRequest): Promise<AudioUpload> {
  if (!request.isMultipart()) return { ok: false, status: 200, message: 'No audio file provided' }
  const fields: Record<string, string> = {}
  let audio: { bytes: Buffer, filename: string, contentType: string } | undefined
  let tooLarge = false
  let emptyName = false
  // throwFileSizeLimit is read by parts() at runtime but missing from its types.
  const options: Parameters<FastifyRequest['parts']>[0] & { throwFileSizeLimit: boolean } = {
    limits: { fileSize: MAX_AUDIO_UPLOAD_BYTES },
    throwFileSizeLimit: false
  }
  for await (const part of request.parts(options)) {
    if (part.type === 'field') {
      if (typeof part.value === 'string') fields[part.fieldname] = part.value
      continue
    }
    const bytes = await part.toBuffer()
    if (part.fieldname !== 'audio' || audio !== undefined) continue
    if (part.file.truncated) {
      tooLarge = true
    } else if (part.filename === '') {
      emptyName = true
    } else {
      audio = { bytes, filename: uploadName(part.filename), contentType: part.mimetype }
    }
  }
  if (tooLarge) return { ok: false, status: 413, message: AUDIO_TOO_LARGE_MESSAGE }
  if (emptyName) return { ok: false, status: 200, message: 'No file selected' }
  if (audio === undefined) return { ok: false, status: 200, message: 'No audio file provided' }
  if (audio.bytes.length === 0) return { ok: false, status: 200, message: 'The audio file is empty' }
  return { ok: true, ...audio, fields }
}

/** Failures of a speech call: 503 when no engine exists, else 200 `{success:false, message}`, which clients show as is. */
export function sendSpeechError (reply: FastifyReply, err: unknown): FastifyReply {
  if (!(err instanceof SpeechError)) throw err
  if (err.kind === 'unavailable') return reply.code(503).send({ success: false, message: err.message })
  if (err.retryAfterSeconds !== undefined) reply.header('retry-after', err.retryAfterSeconds)
  return reply.code(200).send({ success: false, message: err.message })
}

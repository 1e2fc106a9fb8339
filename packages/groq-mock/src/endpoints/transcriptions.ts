/** `POST /audio/transcriptions`: the text after a `TRANSCRIPT:` marker in the upload, else a fixed question. */
import type { IncomingMessage, ServerResponse } from 'node:http'
import { sleepUntil } from '../faults.js'
import { badRequest, header, sendBytes, sendJson } from '../http.js'
import { MultipartError, multipartBoundary, parseMultipart } from '../multipart.js'
import type { MultipartPart } from '../multipart.js'
import type { MockState, PreparedRequest, RequestCtx } from '../state.js'
import { parseWav } from '../wav.js'

/** Transcription returned when the uploaded file has no `TRANSCRIPT:` marker. */
export const DEFAULT_TRANSCRIPT = 'What is this document about?'
export const TRANSCRIPT_MARKER = 'TRANSCRIPT:'
const MAX_MARKER_BYTES = 64 * 1024

interface TranscriptionRequest {
  model: string
  file: Buffer | null
  language: string | null
  format: 'json' | 'verbose_json' | 'text'
}

/** Text after a `TRANSCRIPT:` marker in the file (up to the first control byte), or null without marker. */
export function transcriptFromBytes (file: Buffer): string | null {
  const at = file.indexOf(TRANSCRIPT_MARKER, 0, 'latin1')
  if (at < 0) return null
  const start = at + TRANSCRIPT_MARKER.length
  const max = Math.min(file.length, start + MAX_MARKER_BYTES)
  let end = start
  while (end < max) {
    const b = file[end] as number
    if ((b < 0x20 && b !== 0x09) || b === 0x7f) break
    end++
  }
  return file.toString('utf8', start, end).trim()
}

function formParts (req: IncomingMessage, body: Buffer): MultipartPart[] {
  const boundary = multipartBoundary(header(req, 'content-type'))
  if (boundary === null) throw badRequest('Content-Type must be multipart/form-data with a boundary')
  try {
    return parseMultipart(body, boundary)
  } catch (err) {
    if (err instanceof MultipartError) throw badRequest(`invalid multipart body: ${err.message}`)
    throw err
  }
}

function parseTranscription (req: IncomingMessage, body: Buffer): TranscriptionRequest {
  const parts = formParts(req, body)
  const field = (name: string): string | null => {
    const p = parts.find((x) => x.name === name && x.filename === undefined)
    return p === undefined ? null : p.data.toString('utf8')
  }
  const model = field('model')
  if (model === null || model.trim() === '') throw badRequest("'model' : property 'model' is missing")
  const filePart = parts.find((x) => x.name === 'file')
  const url = field('url')
  if (filePart === undefined && (url === null || url.trim() === '')) {
    throw badRequest('either file or url must be provided')
  }
  const rawFormat = field('response_format') ?? 'json'
  if (rawFormat !== 'json' && rawFormat !== 'verbose_json' && rawFormat !== 'text') {
    throw badRequest(`response_format must be one of json, verbose_json, text (got ${rawFormat})`)
  }
  const language = field('language')
  return {
    model,
    file: filePart?.data ?? null,
    language: language !== null && language.trim() !== '' ? language.trim() : null,
    format: rawFormat
  }
}

/** `verbose_json`: the duration comes from the WAV header, else 0.06 s a character (at least 0.5 s). */
function verboseBody (p: TranscriptionRequest, ctx: RequestCtx, text: string): unknown {
  const wav = p.file === null ? null : parseWav(p.file)
  const duration = Math.round((wav?.duration ?? Math.max(0.5, text.length * 0.06)) * 1000) / 1000
  return {
    task: 'transcribe',
    language: p.language ?? 'en',
    duration,
    text,
    segments: [{
      id: 0,
      seek: 0,
      start: 0,
      end: duration,
      text: ` ${text}`,
      tokens: [],
      temperature: 0,
      avg_logprob: -0.1,
      compression_ratio: 1,
      no_speech_prob: 0.01
    }],
    x_groq: { id: ctx.id }
  }
}

async function respond (state: MockState, p: TranscriptionRequest, res: ServerResponse, ctx: RequestCtx,
  latency: number): Promise<void> {
  if (!await sleepUntil(ctx.start + latency, ctx.signal)) return
  const marked = p.file === null ? null : transcriptFromBytes(p.file)
  const text = marked ?? DEFAULT_TRANSCRIPT
  state.record(ctx, 'ok')
  if (p.format === 'text') sendBytes(res, 200, 'text/plain; charset=utf-8', Buffer.from(text, 'utf8'))
  else if (p.format === 'json') sendJson(res, 200, { text, x_groq: { id: ctx.id } })
  else sendJson(res, 200, verboseBody(p, ctx, text))
}

export function prepareTranscription (req: IncomingMessage, body: Buffer, state: MockState): PreparedRequest {
  const p = parseTranscription(req, body)
  return { model: p.model, respond: (res, ctx, latency) => respond(state, p, res, ctx, latency) }
}

import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox'
import type { FastifyReply, FastifyRequest } from 'fastify'
import type { AudioMeta } from '../../plugins/app/speech/audio-store.js'
import { MessageResponse } from '../../schemas/common.js'
import { AudioBytes, AudioParams, NoBody } from '../../schemas/speech.js'

const NOT_FOUND = { success: false, message: 'Audio file not found' }

type Range = { start: number, end: number } | 'unsatisfiable' | undefined

/** One `bytes=` range (RFC 9110 14.1.2). Several ranges or a malformed header get the whole file, as the RFC allows. */
export function parseRange (header: string | undefined, size: number): Range {
  if (header === undefined) return undefined
  const match = /^bytes=\s*(\d*)\s*-\s*(\d*)\s*$/.exec(header)
  if (match === null) return undefined
  const [, first = '', last = ''] = match
  if (first === '' && last === '') return undefined
  if (first === '') {
    const suffix = Number(last)
    if (suffix === 0 || size === 0) return 'unsatisfiable'
    return { start: Math.max(0, size - suffix), end: size - 1 }
  }
  const start = Number(first)
  const end = last === '' ? size - 1 : Math.min(Number(last), size - 1)
  if (last !== '' && Number(last) < start) return undefined
  if (start >= size) return 'unsatisfiable'
  return { start, end }
}

function lastModified (meta: AudioMeta): Date {
  // HTTP dates have whole seconds; comparisons below use the same precision.
  return new Date(Math.floor(meta.createdAt.getTime() / 1000) * 1000)
}

function etagMatches (header: string, etag: string): boolean {
  if (header.trim() === '*') return true
  const opaque = etag.replace(/^W\//, '')
  return header.split(',').some((candidate) => candidate.trim().replace(/^W\//, '') === opaque)
}

/** RFC 9110 13.2.2 order: If-None-Match wins over If-Modified-Since. */
function notModified (request: FastifyRequest, meta: AudioMeta): boolean {
  const inm = request.headers['if-none-match']
  if (inm !== undefined) return etagMatches(inm, meta.etag)
  const ims = request.headers['if-modified-since']
  if (ims === undefined) return false
  const since = Date.parse(ims)
  return !Number.isNaN(since) && lastModified(meta).getTime() <= since
}

/** A Range applies only while If-Range still names this version of the file. */
function rangeApplies (request: FastifyRequest, meta: AudioMeta): boolean {
  const ifRange = request.headers['if-range']
  if (typeof ifRange !== 'string') return ifRange === undefined
  if (ifRange.startsWith('"') || ifRange.startsWith('W/')) return ifRange === meta.etag
  const date = Date.parse(ifRange)
  return !Number.isNaN(date) && date === lastModified(meta).getTime()
}

function setValidators (reply: FastifyReply, meta: AudioMeta): void {
  reply.header('etag', meta.etag)
  reply.header('last-modified', lastModified(meta).toUTCString())
  // The UI re-polls the same URL; no-cache makes browsers revalidate (cheap 304s) rather than reuse blindly.
  reply.header('cache-control', 'no-cache')
  reply.header('accept-ranges', 'bytes')
}

/**
 * GET and HEAD /audio/:filename. Public: the React app's <audio> and fetch carry no
 * token, so file names are unguessable instead. Exempt from the per-IP limit, because the UI polls
 * with HEAD every 500 ms while an answer's audio is generated.
 */
const audioRoutes: FastifyPluginAsyncTypebox = async (fastify) => {
  const store = fastify.audioStore

  fastify.route({
    method: 'HEAD',
    url: '/audio/:filename',
    config: { rateLimitPolicy: false },
    schema: { params: AudioParams, response: { 200: NoBody, 304: NoBody, 404: MessageResponse } },
    handler: async (request, reply) => {
      const meta = await store.meta(request.params.filename)
      if (meta === undefined) return reply.code(404).send(NOT_FOUND)
      setValidators(reply, meta)
      if (notModified(request, meta)) return reply.code(304).send(null)
      return reply.type(meta.contentType).header('content-length', meta.size).send(null)
    }
  })

  fastify.get('/audio/:filename', {
    // HEAD has its own handler above, which never loads the bytes.
    exposeHeadRoute: false,
    config: { rateLimitPolicy: false },
    schema: { params: AudioParams, response: { 200: AudioBytes, 206: AudioBytes, 304: NoBody, 404: MessageResponse, 416: MessageResponse } }
  }, async (request, reply) => {
    const meta = await store.meta(request.params.filename)
    if (meta === undefined) return reply.code(404).send(NOT_FOUND)
    setValidators(reply, meta)
    if (notModified(request, meta)) return reply.code(304).send(null)

    let range = rangeApplies(request, meta) ? parseRange(request.headers.range, meta.size) : undefined
    if (range === 'unsatisfiable') {
      return reply.code(416).header('content-range', `bytes */${meta.size}`)
        .send({ success: false, message: 'Requested range not satisfiable' })
    }
    range ??= { start: 0, end: meta.size - 1 }
    const partial = range.start !== 0 || range.end !== meta.size - 1
    const bytes = meta.size === 0 ? Buffer.alloc(0) : await store.read(meta.filename, range.start, range.end)
    // Swept between the two queries.
    if (bytes === undefined) return reply.code(404).send(NOT_FOUND)
    reply.type(meta.contentType)
    if (partial) reply.code(206).header('content-range', `bytes ${range.start}-${range.end}/${meta.size}`)
    return reply.send(bytes)
  })
}

export default audioRoutes

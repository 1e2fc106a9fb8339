import { createHash } from 'node:crypto'
import { finished } from 'node:stream/promises'
import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox'
import type { FastifyReply } from 'fastify'
import { Type } from 'typebox'
import { checkPdfSignature } from '../../ingestion/pdf-signature.js'
import { documentNameFromFilename, secureFilename } from '../../ingestion/secure-filename.js'
import multipart, { MAX_REQUEST_BYTES } from '../../plugins/external/multipart.js'
import { whileClientConnected } from '../../lib/client-disconnect.js'
import { MessageResponse, UnauthorizedResponse } from '../../schemas/common.js'
import { DocumentLimitReachedResponse, FileTooLargeResponse, UploadResponse } from '../../schemas/documents.js'

/** Below the router's maxParamLength (app.ts), so every stored name can be addressed and deleted. */
export const MAX_FILENAME_CHARS = 255

const MiB = 1024 * 1024

/** Fallback when the secure filename leaves nothing but ".pdf" to remove (cannot happen for "*.pdf" names, see below). */
const FALLBACK_DOCUMENT_NAME = 'document'

function soft (reply: FastifyReply, message: string): FastifyReply {
  return reply.code(200).send({ success: false, message })
}

const uploadRoutes: FastifyPluginAsyncTypebox = async (fastify) => {
  await fastify.register(multipart)
  const { maxPerUser, maxUploadBytes } = fastify.config.documents
  const limitMb = Math.round((maxUploadBytes / MiB) * 100) / 100

  const limitReached = (reply: FastifyReply, current: number): FastifyReply => {
    const message = `Document limit reached. Beta users can upload up to ${maxPerUser} documents. Please delete existing documents to upload new ones.`
    return reply.code(403).send({
      success: false,
      message,
      limit_reached: true,
      limits: { allowed: false, remaining: 0, limit: maxPerUser, current, message }
    })
  }

  fastify.post('/upload', {
    preParsing: fastify.authenticate,
    schema: {
      response: {
        200: Type.Union([UploadResponse, MessageResponse]),
        400: MessageResponse,
        401: UnauthorizedResponse,
        403: DocumentLimitReachedResponse,
        413: FileTooLargeResponse
      }
    }
  }, async (request, reply) => {
    let part
    try {
      // The file may be read up to the request cap so an oversize file's real size can be reported;
      // only the first maxUploadBytes + 1 bytes are kept. throwFileSizeLimit off: we check `truncated`.
      part = await request.file({ limits: { fileSize: MAX_REQUEST_BYTES }, throwFileSizeLimit: false })
    } catch (err) {
      // Not multipart at all: no file, so "No file uploaded" (docs/migrating-from-flask.md).
      if ((err as { code?: string }).code === 'FST_INVALID_MULTIPART_CONTENT_TYPE') return soft(reply, 'No file uploaded')
      throw err
    }
    if (part === undefined) return soft(reply, 'No file uploaded')

    // Consumes the rest of the file so the response is not sent while the client is still uploading.
    const drain = async (): Promise<void> => {
      await finished(part.file.resume())
    }
    if (part.fieldname !== 'file') {
      await drain()
      return soft(reply, 'No file uploaded')
    }
    const originalName = part.filename
    if (originalName === '') {
      await drain()
      return soft(reply, 'No file selected')
    }
    if (!originalName.endsWith('.pdf')) {
      await drain()
      return soft(reply, 'Only PDF files are allowed')
    }
    // Document names travel in URL paths (DELETE /documents/:name), which the router caps.
    if (originalName.length > MAX_FILENAME_CHARS) {
      await drain()
      return soft(reply, `File name is too long (at most ${MAX_FILENAME_CHARS} characters)`)
    }

    const userId = request.user.id
    const current = await fastify.documentsRepository.count(userId)
    if (current >= maxPerUser) {
      await drain()
      return limitReached(reply, current)
    }

    const kept: Buffer[] = []
    let keptBytes = 0
    let size = 0
    // Hashed as it arrives, in small steps, rather than 10 MB at once on the event loop.
    const hash = createHash('sha256')
    for await (const chunk of part.file as AsyncIterable<Buffer>) {
      size += chunk.length
      if (keptBytes <= maxUploadBytes) {
        kept.push(chunk)
        keptBytes += chunk.length
        hash.update(chunk)
      }
    }
    if (part.file.truncated) {
      return reply.code(413).send({ success: false, message: 'File too large. Maximum file size is 50MB.' })
    }
    if (size > maxUploadBytes) {
      const sizeMb = Math.round((size / MiB) * 100) / 100
      const message = `'${originalName}' is ${(size / MiB).toFixed(1)}MB. Beta users can upload files up to ${limitMb}MB. Please compress or split your PDF.`
      return reply.code(413).send({
        success: false,
        message,
        file_too_large: true,
        limits: { allowed: false, size_mb: sizeMb, limit_mb: limitMb, message }
      })
    }
    const data = Buffer.concat(kept, keptBytes)

    // The content, not the name, must be a PDF (what libmagic checked in the Flask backend).
    const signature = checkPdfSignature(data)
    if (!signature.ok) return reply.code(400).send({ success: false, message: signature.message })

    // The name ends with ".pdf", so its secure form ends with "pdf" and keeps at least that: the
    // document name is empty only if that changes; then it gets a neutral name rather than an error.
    const filename = secureFilename(originalName)
    const name = documentNameFromFilename(filename) || FALLBACK_DOCUMENT_NAME

    // The client going away cancels the extraction; nothing is stored for it.
    const sha256 = hash.digest()
    const result = await whileClientConnected(reply, async (signal) => await fastify.ingestion.ingest({ userId, name, filename, data, sha256, signal }))

    if (!result.ok) {
      switch (result.reason) {
        case 'unreadable':
          request.log.info({ code: result.code, filename }, 'pdf rejected')
          return soft(reply, result.message)
        case 'limit':
          // Lost a race with a concurrent upload of the same user.
          return limitReached(reply, result.current)
        case 'aborted':
          return soft(reply, 'The upload was cancelled.')
        case 'user_gone':
          return soft(reply, 'User not found')
      }
    }
    request.log.info({ document: name, bytes: data.length, pages: result.pages, chunks: result.totalChunks, ...result.timings }, 'document ingested')
    return {
      success: true as const,
      // The React app derives the document name by removing this exact prefix.
      message: `Successfully added ${name}`,
      statistics: { total_chunks: result.totalChunks, text_chunks: result.totalChunks, table_chunks: 0, image_chunks: 0 },
      document: { id: result.documentId, name, filename, pages: result.pages, bytes: data.length, replaced: result.replaced }
    }
  })
}

export default uploadRoutes

import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox'
import { Type } from 'typebox'
import { isInvalidInputError } from '../../plugins/external/pg.js'
import { MessageResponse, Nullable, UnauthorizedResponse } from '../../schemas/common.js'

const UUID_PATTERN = '^[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}$'

const DocumentListItem = Type.Object({
  name: Type.String(),
  total_chunks: Type.Integer(),
  text_chunks: Type.Integer(),
  table_chunks: Type.Integer(),
  image_chunks: Type.Integer(),
  id: Type.String(),
  filename: Type.String(),
  bytes: Type.Integer(),
  pages: Type.Integer(),
  category: Type.String(),
  tags: Type.Array(Type.String()),
  description: Type.Union([Type.String(), Type.Null()]),
  uploaded_at: Type.String()
})

const DocumentRecord = Type.Object({
  id: Type.String(),
  name: Type.String(),
  filename: Type.String(),
  file_size: Type.Integer(),
  page_count: Type.Integer(),
  chunk_count: Type.Integer(),
  status: Type.String(),
  processed: Type.Boolean(),
  error_message: Type.Union([Type.String(), Type.Null()]),
  category: Type.String(),
  tags: Type.Array(Type.String()),
  description: Type.Union([Type.String(), Type.Null()]),
  uploaded_at: Type.String(),
  created_at: Type.String()
})

const Category = Type.Object({
  id: Type.String(),
  name: Type.String(),
  icon: Type.Union([Type.String(), Type.Null()]),
  color: Type.Union([Type.String(), Type.Null()]),
  description: Type.Union([Type.String(), Type.Null()]),
  created_at: Type.String()
})

/** Store errors carry `error`, not `message`: clients read that field here. */
const StoreErrorResponse = Type.Object({ success: Type.Literal(false), error: Type.String() })

const ListResponse = Type.Union([
  Type.Object({ success: Type.Literal(true), documents: Type.Array(DocumentListItem) }),
  MessageResponse
])

const SearchQuery = Type.Object({
  q: Type.Optional(Type.String({ maxLength: 200 })),
  category: Type.Optional(Type.String({ maxLength: 50 })),
  /** Comma-separated; a document must carry all of them. */
  tags: Type.Optional(Type.String({ maxLength: 1000 }))
})

const MetadataBody = Nullable(Type.Object({
  category: Type.Optional(Type.String({ minLength: 1, maxLength: 50 })),
  /** An array, or a comma-separated string (both are accepted). */
  tags: Type.Optional(Type.Union([Type.Array(Type.String({ maxLength: 50 }), { maxItems: 50 }), Type.String({ maxLength: 2000 })])),
  description: Type.Optional(Type.String({ maxLength: 5000 }))
}))

function splitTags (value: string | string[]): string[] {
  const list = Array.isArray(value) ? value : value.split(',')
  return [...new Set(list.map((t) => t.trim()).filter((t) => t !== ''))]
}

const documentsRoutes: FastifyPluginAsyncTypebox = async (fastify) => {
  fastify.get('/', {
    preParsing: fastify.authenticate,
    schema: { response: { 200: ListResponse, 401: UnauthorizedResponse } }
  }, async (request) => {
    try {
      return { success: true as const, documents: await fastify.documentsRepository.list(request.user.id) }
    } catch (err) {
      request.log.error({ err }, 'listing documents failed')
      return { success: false, message: 'Failed to list documents' }
    }
  })

  fastify.get('/search', {
    preParsing: fastify.authenticate,
    schema: {
      querystring: SearchQuery,
      response: { 200: Type.Object({ success: Type.Literal(true), documents: Type.Array(DocumentRecord), count: Type.Integer() }), 401: UnauthorizedResponse }
    }
  }, async (request) => {
    const { q, category, tags } = request.query
    const documents = await fastify.documentsRepository.search(request.user.id, {
      ...(q === undefined ? {} : { q: q.trim() }),
      ...(category === undefined ? {} : { category: category.trim() }),
      ...(tags === undefined ? {} : { tags: splitTags(tags) })
    })
    return { success: true as const, documents, count: documents.length }
  })

  fastify.get('/categories', {
    preParsing: fastify.authenticate,
    schema: { response: { 200: Type.Object({ success: Type.Literal(true), categories: Type.Array(Category) }), 401: UnauthorizedResponse } }
  }, async () => ({ success: true as const, categories: await fastify.documentsRepository.categories() }))

  fastify.put('/:document_id/metadata', {
    preParsing: fastify.authenticate,
    schema: {
      params: Type.Object({ document_id: Type.String({ pattern: UUID_PATTERN }) }),
      body: MetadataBody,
      response: { 200: MessageResponse, 400: MessageResponse, 401: UnauthorizedResponse, 404: MessageResponse, 500: MessageResponse }
    }
  }, async (request, reply) => {
    const body = request.body ?? {}
    const update = {
      ...(body.category === undefined ? {} : { category: body.category.trim() }),
      ...(body.tags === undefined ? {} : { tags: splitTags(body.tags) }),
      ...(body.description === undefined ? {} : { description: body.description })
    }
    if (Object.keys(update).length === 0) return reply.code(400).send({ success: false, message: 'No updates provided' })
    let outcome
    try {
      outcome = await fastify.documentsRepository.updateMetadata(request.user.id, request.params.document_id, update)
    } catch (err) {
      if (isInvalidInputError(err)) throw err // NUL bytes in the text: the error handler's 400
      request.log.error({ err }, 'document metadata update failed')
      return reply.code(500).send({ success: false, message: 'Failed to update document' })
    }
    // Another user's document is "not found" too: its existence is not revealed.
    if (outcome === 'not_found') return reply.code(404).send({ success: false, message: 'Document not found' })
    if (outcome === 'invalid_category') return reply.code(400).send({ success: false, message: 'Invalid category' })
    return { success: true, message: 'Document metadata updated successfully' }
  })

  fastify.post('/clear-all', {
    preParsing: fastify.authenticate,
    schema: { response: { 200: Type.Union([MessageResponse, StoreErrorResponse]), 401: UnauthorizedResponse } }
  }, async (request) => {
    try {
      // Only the caller's documents, never another user's (docs/migrating-from-flask.md).
      const count = await fastify.documentsRepository.deleteAll(request.user.id)
      return { success: true, message: `Cleared ${count} documents from the system` }
    } catch (err) {
      request.log.error({ err }, 'clearing documents failed')
      return { success: false as const, error: 'Failed to clear documents' }
    }
  })

  fastify.delete('/:document_name', {
    preParsing: fastify.authenticate,
    schema: {
      params: Type.Object({ document_name: Type.String() }),
      response: { 200: Type.Union([MessageResponse, StoreErrorResponse]), 401: UnauthorizedResponse }
    }
  }, async (request) => {
    const name = request.params.document_name
    let chunks
    try {
      chunks = await fastify.documentsRepository.deleteByName(request.user.id, name)
    } catch (err) {
      request.log.error({ err }, 'deleting a document failed')
      return { success: false as const, error: 'Failed to delete document' }
    }
    if (chunks === null) return { success: false, message: 'Document not found' }
    return { success: true, message: `Deleted ${chunks} chunks from '${name}'` }
  })
}

export default documentsRoutes

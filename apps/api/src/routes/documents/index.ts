import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox'
import { Type } from 'typebox'
import { isInvalidInputError } from '../../plugins/external/pg.js'
import { MessageResponse, UnauthorizedResponse } from '../../schemas/common.js'
import {
  CategoriesResponse, DocumentIdParams, DocumentListResponse, DocumentMetadataBody, DocumentNameParams, DocumentSearchQuery,
  DocumentSearchResponse, StoreErrorResponse
} from '../../schemas/documents.js'

function splitTags (value: string | string[]): string[] {
  const list = Array.isArray(value) ? value : value.split(',')
  return [...new Set(list.map((t) => t.trim()).filter((t) => t !== ''))]
}

const documentsRoutes: FastifyPluginAsyncTypebox = async (fastify) => {
  fastify.get('/', {
    preParsing: fastify.authenticate,
    schema: { response: { 200: DocumentListResponse, 401: UnauthorizedResponse } }
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
      querystring: DocumentSearchQuery,
      response: { 200: DocumentSearchResponse, 401: UnauthorizedResponse }
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
    schema: { response: { 200: CategoriesResponse, 401: UnauthorizedResponse } }
  }, async () => ({ success: true as const, categories: await fastify.documentsRepository.categories() }))

  fastify.put('/:document_id/metadata', {
    preParsing: fastify.authenticate,
    schema: {
      params: DocumentIdParams,
      body: DocumentMetadataBody,
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
      params: DocumentNameParams,
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

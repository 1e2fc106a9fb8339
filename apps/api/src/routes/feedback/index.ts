import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox'
import { isInvalidInputError, isMissingUserError } from '../../plugins/external/pg.js'
import { FeedbackBody } from '../../schemas/answering.js'
import { MessageResponse, UnauthorizedResponse } from '../../schemas/common.js'

const INVALID = { success: false, message: 'Invalid feedback data' }
/** message_id column width. */
const MAX_MESSAGE_ID_LENGTH = 255

/** The UI sends `Date.now()` (a number) or a string; Python's truthiness decided what counts as present. */
function messageIdOf (value: unknown): string | undefined {
  if (typeof value === 'number' && Number.isFinite(value) && value !== 0) return String(value)
  if (typeof value === 'string' && value !== '' && value.length <= MAX_MESSAGE_ID_LENGTH) return value
  return undefined
}

/** Python's `rating in [1, -1]` compared by equality, so `true` and `1.0` count as 1. */
function ratingOf (value: unknown): 1 | -1 | undefined {
  if (value === 1 || value === true) return 1
  if (value === -1) return -1
  return undefined
}

function textOf (value: unknown): string | undefined {
  if (value === undefined || value === null) return ''
  return typeof value === 'string' ? value : undefined
}

/** POST /feedback. */
const feedbackRoutes: FastifyPluginAsyncTypebox = async (fastify) => {
  fastify.post('/feedback', {
    preParsing: fastify.authenticate,
    // A body that is not a JSON object still gets that 400 message.
    attachValidation: true,
    schema: { body: FeedbackBody, response: { 200: MessageResponse, 400: MessageResponse, 401: UnauthorizedResponse, 500: MessageResponse } }
  }, async (request, reply) => {
    if (request.validationError !== undefined || request.body === undefined || request.body === null) return reply.code(400).send(INVALID)
    const body = request.body
    const messageId = messageIdOf(body.message_id)
    const rating = ratingOf(body.rating)
    const query = textOf(body.query)
    const response = textOf(body.response)
    const comment = textOf(body.comment)
    if (messageId === undefined || rating === undefined || query === undefined || response === undefined || comment === undefined) {
      return reply.code(400).send(INVALID)
    }
    try {
      await fastify.feedback.create({ userId: request.user.id, messageId, query, response, rating, comment })
    } catch (err) {
      // NUL bytes in the text, or a deleted account's token: the error handler's 400 / 404.
      if (isInvalidInputError(err) || isMissingUserError(err)) throw err
      request.log.error({ err }, 'feedback not saved')
      return reply.code(500).send({ success: false, message: 'Failed to save feedback' })
    }
    return { success: true, message: 'Feedback submitted successfully' }
  })
}

export default feedbackRoutes

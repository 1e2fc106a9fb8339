import { Type, type Static } from 'typebox'
import { LimitReachedResponse, MessageResponse, Nullable, OptionalString } from './common.js'

// POST /ask, POST /clear, POST /voice-query and POST /feedback, and the replies the two question
// routes share (plugins/app/answering/question-path.ts).

/** The quota after this question, in every answer. */
export const AnswerLimits = Type.Object({ queries_remaining: Type.Integer(), queries_limit: Type.Integer() })
export type AnswerLimitsValue = Static<typeof AnswerLimits>

export const NoDocumentsResponse = Type.Object({
  success: Type.Literal(false),
  message: Type.String(),
  no_documents: Type.Literal(true)
})

export const QuotaExceededResponse = LimitReachedResponse({ reset_at: Type.Integer() })

/**
 * The replies of a question route besides its answer: 400 (question too long), 429 (daily quota),
 * and the answering failures (499 client gone, 502 upstream down, 503 upstream busy, 504 timeout).
 */
export const QuestionErrorResponses = {
  400: MessageResponse,
  429: QuotaExceededResponse,
  499: MessageResponse,
  502: MessageResponse,
  503: MessageResponse,
  504: MessageResponse
}

export const AskBody = Nullable(Type.Object({
  question: Type.Optional(Type.String()),
  document_name: OptionalString,
  language: OptionalString
}))

export const AskMetadata = Type.Object({
  sources_used: Type.Integer(),
  confidence: Type.Number({ minimum: 0, maximum: 1 }),
  query_type: Type.String(),
  cached: Type.Boolean(),
  model: Type.Optional(Type.String())
})

export const AskSource = Type.Object({ document: Type.String(), page: Type.Integer(), snippet: Type.String() })

/** The answer's speech, synthesized in the background: {url, generating, audio_id}; null when no engine is available. */
export const AskAudio = Type.Union([
  Type.Object({ url: Type.String(), generating: Type.Boolean(), audio_id: Type.String() }, { additionalProperties: true }),
  Type.Null()
])

export const AskResponse = Type.Object({
  success: Type.Literal(true),
  answer: Type.String(),
  metadata: AskMetadata,
  sources: Type.Array(AskSource),
  limits: AnswerLimits,
  audio: Type.Optional(AskAudio)
})
export type AskResponseBody = Static<typeof AskResponse>

export const VoiceQueryResponse = Type.Object({
  success: Type.Literal(true),
  question: Type.String(),
  answer: Type.String(),
  /** null (with `audio_error`) when the answer could not be spoken; the answer is still delivered. */
  audio_url: Type.Union([Type.String(), Type.Null()]),
  audio_error: Type.Optional(Type.String()),
  transcription_language: Type.String(),
  metadata: Type.Object({
    sources_used: Type.Integer(),
    confidence: Type.Number(),
    query_type: Type.String(),
    cached: Type.Optional(Type.Boolean()),
    model: Type.Optional(Type.String())
  }),
  /** Added, as on /ask: the daily quota after this question. */
  limits: AnswerLimits
})

// Types are checked in the handler, so every malformed body gets the same one message.
export const FeedbackBody = Type.Object({
  message_id: Type.Optional(Type.Unknown()),
  query: Type.Optional(Type.Unknown()),
  response: Type.Optional(Type.Unknown()),
  rating: Type.Optional(Type.Unknown()),
  comment: Type.Optional(Type.Unknown())
})

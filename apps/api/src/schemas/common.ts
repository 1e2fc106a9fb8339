import { Type, type Static, type TProperties, type TSchema, type TUnsafe } from 'typebox'

/** The response envelope clients rely on: `success` always, `message` on failures and most successes. */
export const MessageResponse = Type.Object({
  success: Type.Boolean(),
  message: Type.String()
})

/** The auth decorator's 401 shape, which carries neither success nor message. */
export const AuthErrorResponse = Type.Object({
  error: Type.String()
})

/**
 * `schema` or null, as one schema (OpenAPI's `nullable`, which Ajv knows) rather than an anyOf, so a
 * value of the wrong type gets one clear validation message ("body/email must be string").
 */
export function Nullable<T extends TSchema> (schema: T): TUnsafe<Static<T> | null> {
  return Type.Unsafe<Static<T> | null>({ ...schema, nullable: true })
}

/**
 * Strings that are trimmed (as the Flask backend's `.strip()` did: docs/migrating-from-flask.md). null counts as absent; numbers, booleans, arrays and objects
 * are refused with a 400 (JSON bodies are validated without type coercion, see app.ts).
 */
export const OptionalString = Type.Optional(Nullable(Type.String()))

/** 401 on an authenticated route: the decorator's shape, or the route's own `{success:false, message}`. */
export const UnauthorizedResponse = Type.Union([AuthErrorResponse, MessageResponse])

/**
 * A refusal at a per-user limit (daily questions, documents): the envelope with `limit_reached` and
 * the limit's state, where `extra` (the reset time, the current count) sits before the message.
 */
export function LimitReachedResponse<T extends TProperties> (extra: T) {
  return Type.Object({
    success: Type.Literal(false),
    message: Type.String(),
    limit_reached: Type.Literal(true),
    limits: Type.Object({
      allowed: Type.Literal(false),
      remaining: Type.Integer(),
      limit: Type.Integer(),
      ...extra,
      message: Type.String()
    })
  })
}

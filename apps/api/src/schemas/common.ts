import { Type } from 'typebox'

/** The original's envelope: `success` always, `message` on failures and most successes. */
export const MessageResponse = Type.Object({
  success: Type.Boolean(),
  message: Type.String()
})

/** The auth decorator's 401 shape, which carries neither success nor message. */
export const AuthErrorResponse = Type.Object({
  error: Type.String()
})

/** Strings the original `.strip()`ped; numbers are coerced, other types are refused with a 400. */
export const OptionalString = Type.Optional(Type.String())

/** 401 on an authenticated route: the decorator's shape, or the route's own `{success:false, message}`. */
export const UnauthorizedResponse = Type.Union([AuthErrorResponse, MessageResponse])

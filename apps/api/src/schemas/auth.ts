import { Type } from 'typebox'
import { OptionalString } from './common.js'

export const SignupBody = Type.Object({
  email: OptionalString,
  password: OptionalString,
  role: OptionalString,
  institution: OptionalString,
  occupation: OptionalString
})

export const LoginBody = Type.Object({
  email: OptionalString,
  password: OptionalString
})

export const ChangePasswordBody = Type.Object({
  current_password: OptionalString,
  new_password: OptionalString
})

export const ChangeEmailBody = Type.Object({
  new_email: OptionalString,
  password: OptionalString
})

export const DeleteAccountBody = Type.Object({
  password: OptionalString,
  confirmation: OptionalString
})

export const ForgotPasswordBody = Type.Object({
  email: OptionalString
})

export const ResetPasswordBody = Type.Object({
  token: OptionalString,
  password: OptionalString
})

const NullableString = Type.Union([Type.String(), Type.Null()])

export const SignupResponse = Type.Object({
  success: Type.Literal(true),
  message: Type.String(),
  token: Type.String(),
  user: Type.Object({ id: Type.String(), email: Type.String(), role: NullableString, institution: NullableString })
})

export const LoginResponse = Type.Object({
  success: Type.Literal(true),
  message: Type.String(),
  token: Type.String(),
  user: Type.Object({ id: Type.String(), email: Type.String(), role: NullableString, is_verified: Type.Boolean() })
})

export const LoginMethodNotAllowed = Type.Object({
  error: Type.String(),
  message: Type.String(),
  endpoint: Type.String(),
  method_required: Type.String()
})

export const MeResponse = Type.Object({
  success: Type.Literal(true),
  user: Type.Object({ id: Type.String(), email: Type.String(), created_at: Type.String() })
})

export const ChangeEmailResponse = Type.Object({
  success: Type.Literal(true),
  message: Type.String(),
  token: Type.String(),
  email: Type.String()
})

import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox'
import { isPasswordTooLong, PASSWORD_TOO_LONG_MESSAGE } from '../../plugins/app/users/password-hasher.js'
import type { RoutePolicy } from '../../plugins/app/limits/rate-limit-policy.js'
import { isInvalidInputError } from '../../plugins/external/pg.js'
import { AuthErrorResponse, MessageResponse, UnauthorizedResponse } from '../../schemas/common.js'
import {
  ChangeEmailBody, ChangeEmailResponse, ChangePasswordBody, DeleteAccountBody, ForgotPasswordBody, LoginBody,
  LoginMethodNotAllowed, LoginResponse, MeResponse, ResetPasswordBody, SignupBody, SignupResponse
} from '../../schemas/auth.js'

/** Python's len() counts code points, not UTF-16 units. */
function length (text: string): number {
  return [...text].length
}

/** Why a new password is refused (too short, or too long for bcrypt), or undefined when it is accepted. */
function newPasswordProblem (password: string, name = 'Password'): string | undefined {
  if (length(password) < 6) return `${name} must be at least 6 characters`
  if (isPasswordTooLong(password)) return PASSWORD_TOO_LONG_MESSAGE
  return undefined
}

function clean (value: string | null | undefined): string {
  return (value ?? '').trim()
}

function optional (value: string | null | undefined): string | null {
  const text = clean(value)
  return text === '' ? null : text
}

const authRoutes: FastifyPluginAsyncTypebox = async (fastify) => {
  const { rateLimits } = fastify.config
  // Credential routes fail closed when the limit store is down (see rate-limit-policy.ts).
  const credentialLimit = (spec: typeof rateLimits.login, afterAuth = false): RoutePolicy =>
    ({ limits: [spec], onStoreError: 'closed', afterAuth })

  const perEmailResetLimit = fastify.createRateLimit({
    max: rateLimits.forgotPasswordPerEmail.max,
    timeWindow: rateLimits.forgotPasswordPerEmail.windowMs,
    keyGenerator: (request) => `forgot-password-email|${clean((request.body as { email?: string }).email).toLowerCase()}`
  })

  const recordEvent = (userId: string, type: Parameters<typeof fastify.usersRepository.recordEvent>[1], metadata: Record<string, unknown>) => {
    // Analytics must never fail or slow down the request that caused it.
    fastify.usersRepository.recordEvent(userId, type, metadata).catch((err: unknown) => fastify.log.warn({ err, type }, 'usage event not recorded'))
  }

  fastify.post('/signup', {
    config: { rateLimitPolicy: credentialLimit(rateLimits.signup) },
    schema: { body: SignupBody, response: { 200: SignupResponse, 400: MessageResponse, 500: MessageResponse } }
  }, async (request, reply) => {
    const email = clean(request.body.email).toLowerCase()
    const password = clean(request.body.password)
    if (email === '' || password === '') return reply.code(400).send({ success: false, message: 'Email and password are required' })
    const refused = newPasswordProblem(password)
    if (refused !== undefined) return reply.code(400).send({ success: false, message: refused })
    if (await fastify.usersRepository.findByEmail(email) !== undefined) {
      return reply.code(400).send({ success: false, message: 'User already exists' })
    }
    const passwordHash = await fastify.passwordHasher.hash(password)
    let user
    try {
      user = await fastify.usersRepository.create({
        email,
        passwordHash,
        role: optional(request.body.role),
        institution: optional(request.body.institution),
        occupation: optional(request.body.occupation)
      })
    } catch (err) {
      if (isInvalidInputError(err)) throw err // too long for its column, NUL bytes: the error handler's 400
      request.log.error({ err }, 'user insert failed')
      return reply.code(500).send({ success: false, message: 'An error occurred while creating the user account. Please try again.' })
    }
    if (user === undefined) return reply.code(400).send({ success: false, message: 'User already exists' })
    return {
      success: true as const,
      message: 'User created successfully',
      token: fastify.accessTokens.issue({ id: user.id, email: user.email }),
      user: { id: user.id, email: user.email, role: user.role, institution: user.institution }
    }
  })

  // GET shares the login bucket and explains itself to people who open it in a browser.
  fastify.get('/login', {
    config: { rateLimitPolicy: credentialLimit(rateLimits.login) },
    schema: { response: { 405: LoginMethodNotAllowed } }
  }, async (_request, reply) => reply.code(405).header('allow', 'POST, OPTIONS').send({
    error: 'Method Not Allowed',
    message: 'This is an API endpoint. Please use POST method with credentials.',
    endpoint: '/auth/login',
    method_required: 'POST'
  }))

  fastify.post('/login', {
    config: { rateLimitPolicy: credentialLimit(rateLimits.login) },
    schema: { body: LoginBody, response: { 200: LoginResponse, 400: MessageResponse, 401: MessageResponse } }
  }, async (request, reply) => {
    const email = clean(request.body.email).toLowerCase()
    const password = clean(request.body.password)
    if (email === '' || password === '') return reply.code(400).send({ success: false, message: 'Email and password are required' })
    if (isPasswordTooLong(password)) return reply.code(400).send({ success: false, message: PASSWORD_TOO_LONG_MESSAGE })
    const user = await fastify.usersRepository.findByEmail(email)
    // An unknown email is compared against a dummy hash, so it takes as long to refuse as a wrong password.
    if (!await fastify.passwordHasher.verify(password, user?.password_hash) || user === undefined) {
      return reply.code(401).send({ success: false, message: 'Invalid credentials' })
    }
    recordEvent(user.id, 'user_login', { email })
    return {
      success: true as const,
      message: 'Login successful',
      token: fastify.accessTokens.issue({ id: user.id, email: user.email }),
      user: { id: user.id, email: user.email, role: user.role, is_verified: user.is_verified }
    }
  })

  fastify.get('/me', {
    preParsing: fastify.authenticate,
    schema: { response: { 200: MeResponse, 401: AuthErrorResponse, 404: MessageResponse } }
  }, async (request, reply) => {
    const user = await fastify.usersRepository.findById(request.user.id)
    if (user === undefined) return reply.code(404).send({ success: false, message: 'User not found' })
    return { success: true as const, user: { id: user.id, email: user.email, created_at: user.created_at } }
  })

  fastify.post('/change-password', {
    preParsing: fastify.authenticate,
    config: { rateLimitPolicy: credentialLimit(rateLimits.changePassword, true) },
    schema: { body: ChangePasswordBody, response: { 200: MessageResponse, 400: MessageResponse, 401: UnauthorizedResponse, 404: MessageResponse, 500: MessageResponse } }
  }, async (request, reply) => {
    const current = clean(request.body.current_password)
    const next = clean(request.body.new_password)
    if (current === '' || next === '') return reply.code(400).send({ success: false, message: 'Current and new passwords are required' })
    const refused = newPasswordProblem(next, 'New password')
    if (refused !== undefined) return reply.code(400).send({ success: false, message: refused })
    if (current === next) return reply.code(400).send({ success: false, message: 'New password must be different from current password' })
    const user = await fastify.usersRepository.findById(request.user.id)
    if (user === undefined) return reply.code(404).send({ success: false, message: 'User not found' })
    if (!await fastify.passwordHasher.verify(current, user.password_hash)) {
      return reply.code(401).send({ success: false, message: 'Current password is incorrect' })
    }
    if (!await fastify.usersRepository.updatePasswordHash(user.id, await fastify.passwordHasher.hash(next), false)) {
      return reply.code(500).send({ success: false, message: 'Failed to update password' })
    }
    recordEvent(user.id, 'password_changed', {})
    return { success: true, message: 'Password changed successfully' }
  })

  fastify.post('/change-email', {
    preParsing: fastify.authenticate,
    config: { rateLimitPolicy: credentialLimit(rateLimits.changeEmail, true) },
    schema: { body: ChangeEmailBody, response: { 200: ChangeEmailResponse, 400: MessageResponse, 401: UnauthorizedResponse, 404: MessageResponse, 500: MessageResponse } }
  }, async (request, reply) => {
    const newEmail = clean(request.body.new_email).toLowerCase()
    const password = clean(request.body.password)
    if (newEmail === '' || password === '') return reply.code(400).send({ success: false, message: 'New email and password are required' })
    if (!newEmail.includes('@') || !newEmail.includes('.')) return reply.code(400).send({ success: false, message: 'Invalid email format' })
    const user = await fastify.usersRepository.findById(request.user.id)
    if (user === undefined) return reply.code(404).send({ success: false, message: 'User not found' })
    if (newEmail === user.email) return reply.code(400).send({ success: false, message: 'New email is same as current email' })
    if (!await fastify.passwordHasher.verify(password, user.password_hash)) {
      return reply.code(401).send({ success: false, message: 'Password is incorrect' })
    }
    if (await fastify.usersRepository.findByEmail(newEmail) !== undefined || !await fastify.usersRepository.updateEmail(user.id, newEmail)) {
      return reply.code(400).send({ success: false, message: 'Email already in use' })
    }
    recordEvent(user.id, 'email_changed', { old_email: user.email, new_email: newEmail })
    return {
      success: true as const,
      message: 'Email changed successfully',
      token: fastify.accessTokens.issue({ id: user.id, email: newEmail }),
      email: newEmail
    }
  })

  fastify.delete('/delete-account', {
    preParsing: fastify.authenticate,
    schema: { body: DeleteAccountBody, response: { 200: MessageResponse, 400: MessageResponse, 401: UnauthorizedResponse, 404: MessageResponse, 500: MessageResponse } }
  }, async (request, reply) => {
    const password = clean(request.body?.password)
    if (password === '') return reply.code(400).send({ success: false, message: 'Password is required' })
    if (request.body?.confirmation !== 'DELETE') return reply.code(400).send({ success: false, message: 'Please type DELETE to confirm' })
    const user = await fastify.usersRepository.findById(request.user.id)
    if (user === undefined) return reply.code(404).send({ success: false, message: 'User not found' })
    if (!await fastify.passwordHasher.verify(password, user.password_hash)) {
      return reply.code(401).send({ success: false, message: 'Password is incorrect' })
    }
    if (!await fastify.usersRepository.delete(user.id)) return reply.code(500).send({ success: false, message: 'Failed to delete account' })
    return { success: true, message: "Account deleted successfully. We're sorry to see you go!" }
  })

  fastify.post('/forgot-password', {
    config: { rateLimitPolicy: credentialLimit(rateLimits.forgotPassword) },
    schema: { body: ForgotPasswordBody, response: { 200: MessageResponse, 400: MessageResponse, 429: MessageResponse } }
  }, async (request, reply) => {
    const email = clean(request.body.email).toLowerCase()
    if (email === '') return reply.code(400).send({ success: false, message: 'Email is required' })
    // Counted for every address, known or not, so the 429 does not reveal which emails have accounts.
    const perEmail = await perEmailResetLimit(request)
    if (!perEmail.isAllowed && perEmail.isExceeded) {
      return reply.code(429).send({ success: false, message: 'Too many password reset requests. Please try again later.' })
    }
    const user = await fastify.usersRepository.findByEmail(email)
    if (user !== undefined) {
      const token = await fastify.passwordResets.create(user.id)
      const link = `${fastify.config.frontendUrl}/reset-password?token=${encodeURIComponent(token)}`
      // Sent in the background: waiting on SMTP would make known emails answer measurably slower.
      fastify.mailer.send({
        to: user.email,
        subject: 'Reset your DocuMind Voice password',
        text: `Someone asked to reset the password of your DocuMind Voice account.\n\nOpen this link within an hour to choose a new one:\n${link}\n\nIf it was not you, ignore this message.`
      }).catch((err: unknown) => request.log.error({ err }, 'password reset mail not sent'))
    }
    return { success: true, message: 'If that email exists, a password reset link has been sent.' }
  })

  fastify.post('/reset-password', {
    config: { rateLimitPolicy: credentialLimit(rateLimits.resetPassword) },
    schema: { body: ResetPasswordBody, response: { 200: MessageResponse, 400: MessageResponse } }
  }, async (request, reply) => {
    const token = clean(request.body.token)
    const password = clean(request.body.password)
    if (token === '' || password === '') return reply.code(400).send({ success: false, message: 'Token and password are required' })
    const refused = newPasswordProblem(password)
    if (refused !== undefined) return reply.code(400).send({ success: false, message: refused })
    const userId = await fastify.passwordResets.consume(token)
    if (userId === undefined) return reply.code(400).send({ success: false, message: 'Invalid or expired reset token' })
    if (!await fastify.usersRepository.updatePasswordHash(userId, await fastify.passwordHasher.hash(password), true)) {
      return reply.code(400).send({ success: false, message: 'Failed to reset password' })
    }
    await fastify.passwordResets.revokeAll(userId)
    return { success: true, message: 'Password reset successfully' }
  })
}

export default authRoutes

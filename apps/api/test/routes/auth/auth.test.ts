import { createHmac } from 'node:crypto'
import jwt from 'jsonwebtoken'
import pg from 'pg'
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest'
import { TOKEN_LIFETIME_SECONDS } from '../../../src/plugins/app/users/access-tokens.js'
import { buildTestApp, TEST_JWT_SECRET, type TestApp } from '../../helpers/app.js'

// Each test uses its own client address, so the per-address limits never interfere.
let nextAddress = 1
const fromNewAddress = (): { remoteAddress: string } => ({ remoteAddress: `10.1.${Math.floor(nextAddress / 250)}.${(nextAddress++ % 250) + 1}` })

// Made with Python's bcrypt (Debian python3-bcrypt 3.2.2): bcrypt.hashpw(b'Tr0ub4dor&3 from Flask', bcrypt.gensalt(12)).
const PYTHON_HASH = '$2b$12$tddZX8pGQ82w2V70NQ.euuBQT1bfEnPGjkmC.7fdUmLDXM78PUYyG'
const PYTHON_PASSWORD = 'Tr0ub4dor&3 from Flask'

describe('auth routes', () => {
  let t: TestApp
  let db: pg.Pool

  beforeAll(async () => {
    t = await buildTestApp({ label: 'auth' })
    db = new pg.Pool({ connectionString: t.databaseUrl })
  })
  afterAll(async () => {
    await db.end()
    await t.close()
  })

  async function post (url: string, payload: unknown, headers: Record<string, string> = {}) {
    return await t.app.inject({ method: 'POST', url, payload: payload as object, headers, ...fromNewAddress() })
  }

  async function signup (email: string, password = 'secret12', extra: Record<string, unknown> = {}) {
    const res = await post('/auth/signup', { email, password, ...extra })
    expect(res.statusCode).toBe(200)
    return res.json() as { token: string, user: { id: string, email: string } }
  }

  const bearer = (token: string) => ({ authorization: `Bearer ${token}` })

  describe('POST /auth/signup', () => {
    it('creates the user, its plan, its voice preferences and a usage event', async () => {
      const res = await post('/auth/signup', { email: '  Alice@Example.COM ', password: '  secret12  ', role: 'student', institution: 'MIT', occupation: '' })
      expect(res.statusCode).toBe(200)
      const body = res.json()
      expect(body).toMatchObject({ success: true, message: 'User created successfully', user: { email: 'alice@example.com', role: 'student', institution: 'MIT' } })
      expect(Object.keys(body.user).sort()).toEqual(['email', 'id', 'institution', 'role'])
      const claims = jwt.verify(body.token, TEST_JWT_SECRET) as Record<string, unknown>
      expect(claims).toMatchObject({ user_id: body.user.id, email: 'alice@example.com' })
      expect(claims.exp).toBe((claims.iat as number) + TOKEN_LIFETIME_SECONDS)
      const { rows } = await db.query('SELECT occupation, (SELECT plan_type FROM user_plans WHERE user_id = u.id) AS plan, (SELECT engine_preference FROM user_voice_preferences WHERE user_id = u.id) AS engine, (SELECT count(*)::int FROM usage_events WHERE user_id = u.id AND event_type = \'user_signup\') AS events FROM users u WHERE id = $1', [body.user.id])
      expect(rows[0]).toEqual({ occupation: null, plan: 'free', engine: 'auto', events: 1 })
      // The password is trimmed before hashing, so Flask-era hashes keep matching.
      expect((await post('/auth/login', { email: 'alice@example.com', password: 'secret12' })).statusCode).toBe(200)
    })

    it('answers null role and institution when absent', async () => {
      const body = await signup('bare@example.com')
      expect(body.user).toMatchObject({ role: null, institution: null })
    })

    it('refuses missing fields, short and over-long passwords, and duplicates', async () => {
      const cases: Array<[unknown, number, string]> = [
        [{ password: 'secret12' }, 400, 'Email and password are required'],
        [{ email: 'x@y.z', password: '   ' }, 400, 'Email and password are required'],
        [{ email: 'x@y.z', password: null }, 400, 'Email and password are required'],
        [{ email: 'x@y.z', password: 'abc' }, 400, 'Password must be at least 6 characters'],
        [{ email: 'x@y.z', password: 'é'.repeat(37) }, 400, 'Password must be at most 72 bytes'],
        [{ email: 'alice@example.com', password: 'secret12' }, 400, 'User already exists'],
        [{ email: 'ALICE@example.com ', password: 'secret12' }, 400, 'User already exists']
      ]
      for (const [payload, status, message] of cases) {
        const res = await post('/auth/signup', payload)
        expect({ payload, status: res.statusCode, body: res.json() }).toEqual({ payload, status, body: { success: false, message } })
      }
    })

    it('answers 400 JSON for a body of the wrong type or not JSON', async () => {
      const wrongType = await post('/auth/signup', { email: { $ne: '' }, password: 'secret12' })
      expect(wrongType.statusCode).toBe(400)
      expect(wrongType.json().success).toBe(false)
      const notJson = await t.app.inject({ method: 'POST', url: '/auth/signup', headers: { 'content-type': 'application/json' }, payload: '{"email":', ...fromNewAddress() })
      expect(notJson.statusCode).toBe(400)
      expect(notJson.json().success).toBe(false)
    })
  })

  describe('POST /auth/login', () => {
    it('logs in with the documented fields and records a usage event', async () => {
      const { user } = await signup('bob@example.com', 'hunter22', { role: 'researcher' })
      const res = await post('/auth/login', { email: ' BOB@example.com', password: 'hunter22 ' })
      expect(res.statusCode).toBe(200)
      const body = res.json()
      expect(body).toMatchObject({ success: true, message: 'Login successful', user: { id: user.id, email: 'bob@example.com', role: 'researcher', is_verified: false } })
      expect(jwt.verify(body.token, TEST_JWT_SECRET)).toMatchObject({ user_id: user.id })
      await vi.waitFor(async () => {
        const { rows } = await db.query('SELECT metadata FROM usage_events WHERE user_id = $1 AND event_type = \'user_login\'', [user.id])
        expect(rows).toEqual([{ metadata: { email: 'bob@example.com' } }])
      })
    })

    it('answers the same 401 for an unknown email and a wrong password, after a bcrypt compare either way', async () => {
      const verify = vi.spyOn(t.app.passwordHasher, 'verify')
      const unknown = await post('/auth/login', { email: 'nobody@example.com', password: 'whatever1' })
      const wrong = await post('/auth/login', { email: 'bob@example.com', password: 'wrong-password' })
      expect(unknown.statusCode).toBe(401)
      expect(wrong.statusCode).toBe(401)
      expect(unknown.json()).toEqual({ success: false, message: 'Invalid credentials' })
      expect(wrong.json()).toEqual(unknown.json())
      // The unknown email was still compared, against the dummy hash.
      expect(verify).toHaveBeenCalledWith('whatever1', undefined)
      verify.mockRestore()
    })

    it('refuses missing fields and over-long passwords with 400', async () => {
      expect((await post('/auth/login', { email: 'bob@example.com' })).json()).toEqual({ success: false, message: 'Email and password are required' })
      const long = await post('/auth/login', { email: 'bob@example.com', password: 'x'.repeat(73) })
      expect(long.statusCode).toBe(400)
      expect(long.json().message).toBe('Password must be at most 72 bytes')
    })

    it('answers GET with the 405 JSON and OPTIONS with 204', async () => {
      const get = await t.app.inject({ method: 'GET', url: '/auth/login', ...fromNewAddress() })
      expect(get.statusCode).toBe(405)
      expect(get.json()).toEqual({
        error: 'Method Not Allowed',
        message: 'This is an API endpoint. Please use POST method with credentials.',
        endpoint: '/auth/login',
        method_required: 'POST'
      })
      const options = await t.app.inject({ method: 'OPTIONS', url: '/auth/login', headers: { origin: 'http://localhost:5173', 'access-control-request-method': 'POST' }, ...fromNewAddress() })
      expect(options.statusCode).toBe(204)
      expect(options.body).toBe('')
      expect(options.headers['access-control-allow-origin']).toBe('http://localhost:5173')
      expect(options.headers['access-control-allow-credentials']).toBe('true')
      expect(options.headers['access-control-max-age']).toBe('3600')
    })

    it('verifies a cost-12 $2b$ hash made by Python bcrypt (users carried over from the Flask backend)', async () => {
      const { rows } = await db.query(
        "INSERT INTO users (email, password_hash) VALUES ('legacy@example.com', $1) RETURNING id", [PYTHON_HASH]
      )
      const res = await post('/auth/login', { email: 'legacy@example.com', password: PYTHON_PASSWORD })
      expect(res.statusCode).toBe(200)
      expect(res.json().user.id).toBe(rows[0].id)
      expect((await post('/auth/login', { email: 'legacy@example.com', password: 'Tr0ub4dor&3 from flask' })).statusCode).toBe(401)
    })
  })

  describe('token checks (the decorator 401 shapes)', () => {
    let token: string
    let userId: string
    beforeAll(async () => {
      const body = await signup('carol@example.com')
      token = body.token
      userId = body.user.id
    })

    const me = async (headers: Record<string, string>) => await t.app.inject({ method: 'GET', url: '/auth/me', headers, ...fromNewAddress() })
    const forge = (payload: object, header: object = { alg: 'HS256', typ: 'JWT' }, secret = TEST_JWT_SECRET): string => {
      const part = (o: object) => Buffer.from(JSON.stringify(o)).toString('base64url')
      const unsigned = `${part(header)}.${part(payload)}`
      return `${unsigned}.${createHmac('sha256', secret).update(unsigned).digest('base64url')}`
    }
    const now = () => Math.floor(Date.now() / 1000)

    it('GET /auth/me returns the user', async () => {
      const res = await me(bearer(token))
      expect(res.statusCode).toBe(200)
      const body = res.json()
      expect(body).toMatchObject({ success: true, user: { id: userId, email: 'carol@example.com' } })
      expect(body.user.created_at).toMatch(/^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{6}$/)
    })

    it('no header, no space, expired, wrong secret, alg none, malformed → 401 shapes', async () => {
      expect((await me({})).json()).toEqual({ error: 'No authorization header' })
      expect((await me({ authorization: 'Bearer' })).json()).toEqual({ error: 'Invalid authorization header format' })
      const invalid = { error: 'Invalid or expired token' }
      const expired = forge({ user_id: userId, email: 'carol@example.com', iat: now() - 700_000, exp: now() - 10 })
      const wrongSecret = forge({ user_id: userId, email: 'carol@example.com', iat: now(), exp: now() + 60 }, undefined, 'not-the-secret')
      const part = (o: object) => Buffer.from(JSON.stringify(o)).toString('base64url')
      const algNone = `${part({ alg: 'none', typ: 'JWT' })}.${part({ user_id: userId, email: 'carol@example.com', iat: now(), exp: now() + 60 })}.`
      const noClaims = forge({ sub: userId, iat: now(), exp: now() + 60 })
      const badUserId = forge({ user_id: "1' OR '1'='1", email: 'x@y.z', iat: now(), exp: now() + 60 })
      for (const bad of [expired, wrongSecret, algNone, noClaims, badUserId, 'not.a.jwt', 'garbage']) {
        const res = await me(bearer(bad))
        expect(res.statusCode).toBe(401)
        expect(res.json()).toEqual(invalid)
      }
    })

    it('an empty or blank Authorization header is no header', async () => {
      for (const authorization of ['', ' ', '\t  ']) {
        const res = await me({ authorization })
        expect([res.statusCode, res.json()]).toEqual([401, { error: 'No authorization header' }])
      }
    })

    it('every authenticated route checks the token before reading the body', async () => {
      // Generated from the route table: the routes whose preParsing hooks include the decorator.
      const authenticated = t.routes.filter((route) => [route.preParsing ?? []].flat().includes(t.app.authenticate as never))
      expect(authenticated.length).toBeGreaterThanOrEqual(25)
      const bodies: Array<{ label: string, headers: Record<string, string>, payload: string }> = [
        { label: 'truncated JSON', headers: { 'content-type': 'application/json' }, payload: '{"question": ' },
        { label: 'wrong types', headers: { 'content-type': 'application/json' }, payload: '{"email": 12345, "question": [1], "password": {}, "text": true}' },
        { label: 'an unsupported content type', headers: { 'content-type': 'application/xml' }, payload: '<a>b</a>' },
        { label: 'a raw PDF', headers: { 'content-type': 'application/pdf' }, payload: '%PDF-1.4 not multipart' },
        { label: 'a multipart body without a boundary', headers: { 'content-type': 'multipart/form-data' }, payload: 'garbage' }
      ]
      for (const route of authenticated) {
        for (const method of [route.method].flat().filter((m) => m !== 'HEAD')) {
          const url = route.url.replace(/:[a-z_]+/g, 'x')
          for (const body of bodies) {
            for (const [authorization, error] of [[undefined, 'No authorization header'], [`Bearer ${'x'.repeat(20)}`, 'Invalid or expired token']] as const) {
              const headers = { ...body.headers, ...(authorization === undefined ? {} : { authorization }) }
              const res = await t.app.inject({ method, url, headers, payload: body.payload, ...fromNewAddress() })
              expect([`${method} ${route.url} with ${body.label}`, res.statusCode, res.json()]).toEqual([`${method} ${route.url} with ${body.label}`, 401, { error }])
            }
          }
        }
      }
    })

    it('refuses at boot a route that would authenticate after the body is validated', async () => {
      const { default: Fastify } = await import('fastify')
      const { default: accessTokens } = await import('../../../src/plugins/app/users/access-tokens.js')
      const { default: authenticate } = await import('../../../src/plugins/app/users/authenticate.js')
      const app = Fastify()
      await app.register(accessTokens, { secret: TEST_JWT_SECRET })
      await app.register(authenticate)
      for (const stage of ['preValidation', 'preHandler'] as const) {
        expect(() => app.post(`/late-${stage}`, { [stage]: app.authenticate }, async () => ({}))).toThrow(/preParsing/)
      }
      await app.close()
    })

    it('accepts a token signed by the Flask backend (same secret and claims)', async () => {
      const original = forge({ user_id: userId, email: 'carol@example.com', iat: now(), exp: now() + 604800 })
      expect((await me(bearer(original))).statusCode).toBe(200)
      // The scheme word is ignored.
      expect((await me({ authorization: `Token ${original}` })).statusCode).toBe(200)
    })
  })

  describe('POST /auth/change-password', () => {
    it('runs the checks in the documented order and changes the hash', async () => {
      const { token, user } = await signup('dave@example.com', 'first-pass')
      const change = async (payload: object, auth: Record<string, string> = bearer(token)) => await post('/auth/change-password', payload, auth)
      const cases: Array<[object, number, string]> = [
        [{ current_password: 'first-pass' }, 400, 'Current and new passwords are required'],
        [{ current_password: 'first-pass', new_password: 'short' }, 400, 'New password must be at least 6 characters'],
        [{ current_password: 'first-pass', new_password: ' first-pass ' }, 400, 'New password must be different from current password'],
        [{ current_password: 'not-it', new_password: 'second-pass' }, 401, 'Current password is incorrect']
      ]
      for (const [payload, status, message] of cases) {
        const res = await change(payload)
        expect([res.statusCode, res.json()]).toEqual([status, { success: false, message }])
      }
      const ok = await change({ current_password: 'first-pass', new_password: 'second-pass' })
      expect(ok.json()).toEqual({ success: true, message: 'Password changed successfully' })
      expect((await post('/auth/login', { email: 'dave@example.com', password: 'second-pass' })).statusCode).toBe(200)
      expect((await post('/auth/login', { email: 'dave@example.com', password: 'first-pass' })).statusCode).toBe(401)
      // Existing tokens stay valid: a password change does not revoke them.
      expect((await t.app.inject({ url: '/auth/me', headers: bearer(token) })).statusCode).toBe(200)
      await vi.waitFor(async () => {
        const { rowCount } = await db.query('SELECT 1 FROM usage_events WHERE user_id = $1 AND event_type = \'password_changed\'', [user.id])
        expect(rowCount).toBe(1)
      })
      expect((await change({ current_password: 'a', new_password: 'b' }, {})).json()).toEqual({ error: 'No authorization header' })
    })
  })

  describe('POST /auth/change-email', () => {
    it('runs the checks in the documented order and issues a token with the new email', async () => {
      const { token } = await signup('erin@example.com', 'erin-pass')
      await signup('taken@example.com')
      const change = async (payload: object) => await post('/auth/change-email', payload, bearer(token))
      const cases: Array<[object, number, string]> = [
        [{ new_email: 'new@example.com' }, 400, 'New email and password are required'],
        [{ new_email: 'not-an-email', password: 'erin-pass' }, 400, 'Invalid email format'],
        [{ new_email: ' ERIN@example.com', password: 'erin-pass' }, 400, 'New email is same as current email'],
        [{ new_email: 'new@example.com', password: 'wrong-pass' }, 401, 'Password is incorrect'],
        [{ new_email: 'taken@example.com', password: 'erin-pass' }, 400, 'Email already in use']
      ]
      for (const [payload, status, message] of cases) {
        const res = await change(payload)
        expect([res.statusCode, res.json()]).toEqual([status, { success: false, message }])
      }
      const ok = await change({ new_email: ' New@Example.com ', password: 'erin-pass' })
      expect(ok.statusCode).toBe(200)
      const body = ok.json()
      expect(body).toMatchObject({ success: true, message: 'Email changed successfully', email: 'new@example.com' })
      expect(jwt.verify(body.token, TEST_JWT_SECRET)).toMatchObject({ email: 'new@example.com' })
      expect((await post('/auth/login', { email: 'new@example.com', password: 'erin-pass' })).statusCode).toBe(200)
    })
  })

  describe('DELETE /auth/delete-account', () => {
    it('needs the password and DELETE, then removes the user and everything that cascades', async () => {
      const { token, user } = await signup('frank@example.com', 'frank-pass')
      const del = async (payload: object | undefined) => await t.app.inject({ method: 'DELETE', url: '/auth/delete-account', payload, headers: bearer(token), ...fromNewAddress() })
      expect((await del({})).json()).toEqual({ success: false, message: 'Password is required' })
      expect((await del({ password: 'frank-pass', confirmation: 'delete' })).json()).toEqual({ success: false, message: 'Please type DELETE to confirm' })
      const wrong = await del({ password: 'nope-nope', confirmation: 'DELETE' })
      expect([wrong.statusCode, wrong.json()]).toEqual([401, { success: false, message: 'Password is incorrect' }])
      const ok = await del({ password: 'frank-pass', confirmation: 'DELETE' })
      expect(ok.json()).toEqual({ success: true, message: "Account deleted successfully. We're sorry to see you go!" })
      const { rows } = await db.query('SELECT (SELECT count(*)::int FROM users WHERE id = $1) + (SELECT count(*)::int FROM user_plans WHERE user_id = $1) + (SELECT count(*)::int FROM usage_events WHERE user_id = $1) AS left', [user.id])
      expect(rows[0].left).toBe(0)
      // The token of a deleted user still verifies (no DB lookup), but finds no user.
      const again = await del({ password: 'frank-pass', confirmation: 'DELETE' })
      expect([again.statusCode, again.json()]).toEqual([404, { success: false, message: 'User not found' }])
      const me = await t.app.inject({ url: '/auth/me', headers: bearer(token) })
      expect([me.statusCode, me.json()]).toEqual([404, { success: false, message: 'User not found' }])
    })
  })

  describe('password reset', () => {
    it('mails a single-use link that expires, and answers the same for unknown emails', async () => {
      const { user } = await signup('gina@example.com', 'gina-pass')
      const send = vi.spyOn(t.app.mailer, 'send')
      const generic = { success: true, message: 'If that email exists, a password reset link has been sent.' }
      expect((await post('/auth/forgot-password', {})).json()).toEqual({ success: false, message: 'Email is required' })
      expect((await post('/auth/forgot-password', { email: 'nobody@example.com' })).json()).toEqual(generic)
      expect(send).not.toHaveBeenCalled()
      expect((await post('/auth/forgot-password', { email: ' GINA@example.com' })).json()).toEqual(generic)
      expect(send).toHaveBeenCalledTimes(1)
      const mail = send.mock.calls[0]![0]
      expect(mail.to).toBe('gina@example.com')
      const link = /http:\/\/localhost:5173\/reset-password\?token=([\w-]+)/.exec(mail.text)
      expect(link).not.toBeNull()
      const token = decodeURIComponent(link![1]!)
      send.mockRestore()

      const reset = async (payload: object) => await post('/auth/reset-password', payload)
      expect((await reset({ token })).json()).toEqual({ success: false, message: 'Token and password are required' })
      expect((await reset({ token, password: 'short' })).json()).toEqual({ success: false, message: 'Password must be at least 6 characters' })
      expect((await reset({ token: 'forged-token', password: 'new-gina-pass' })).json()).toEqual({ success: false, message: 'Invalid or expired reset token' })
      expect((await reset({ token, password: 'new-gina-pass' })).json()).toEqual({ success: true, message: 'Password reset successfully' })
      // Single use.
      expect((await reset({ token, password: 'other-pass' })).json()).toEqual({ success: false, message: 'Invalid or expired reset token' })
      expect((await post('/auth/login', { email: 'gina@example.com', password: 'new-gina-pass' })).statusCode).toBe(200)

      // Expired tokens are refused.
      await post('/auth/forgot-password', { email: 'gina@example.com' })
      await db.query("UPDATE password_reset_tokens SET expires_at = now() - interval '1 second' WHERE user_id = $1", [user.id])
      const { rows } = await db.query('SELECT count(*)::int AS n FROM password_reset_tokens WHERE user_id = $1', [user.id])
      expect(rows[0].n).toBe(1)
    })

    it('caps reset requests per email (3 per hour), known or not', async () => {
      for (let i = 0; i < 3; i++) expect((await post('/auth/forgot-password', { email: 'capped@example.com' })).statusCode).toBe(200)
      const fourth = await post('/auth/forgot-password', { email: 'capped@example.com' })
      expect([fourth.statusCode, fourth.json()]).toEqual([429, { success: false, message: 'Too many password reset requests. Please try again later.' }])
    })
  })

  describe('framework errors answer JSON', () => {
    it('unknown route → 404 JSON with CORS headers', async () => {
      const res = await t.app.inject({ url: '/no/such/route', headers: { origin: 'http://localhost:3000' } })
      expect(res.statusCode).toBe(404)
      expect(res.headers['content-type']).toMatch(/application\/json/)
      expect(res.json()).toMatchObject({ success: false })
      expect(res.headers['access-control-allow-origin']).toBe('http://localhost:3000')
    })

    it('an origin that is not allowed gets no CORS headers', async () => {
      const res = await t.app.inject({ url: '/health', headers: { origin: 'https://evil.example' } })
      expect(res.headers['access-control-allow-origin']).toBeUndefined()
    })

    it('a multipart body on a JSON route → 415 JSON (multipart is parsed only where files are taken)', async () => {
      const boundary = 'x-boundary'
      const res = await post('/auth/login', `--${boundary}\r\nContent-Disposition: form-data; name="email"\r\n\r\nx@y.z\r\n--${boundary}--\r\n`,
        { 'content-type': `multipart/form-data; boundary=${boundary}` })
      expect(res.statusCode).toBe(415)
      expect(res.json()).toMatchObject({ success: false, message: expect.stringContaining('Unsupported Media Type') })
    })

    it('an oversized JSON body → 413 JSON', async () => {
      const res = await post('/auth/login', { email: 'x@y.z', password: 'p'.repeat(2 * 1024 * 1024) })
      expect(res.statusCode).toBe(413)
      expect(res.json()).toEqual({ success: false, message: 'Request body too large.' })
    })

    it('an unexpected failure → 500 without details', async () => {
      const spy = vi.spyOn(t.app.usersRepository, 'findByEmail').mockRejectedValueOnce(new Error('secret internals'))
      const res = await post('/auth/login', { email: 'x@y.z', password: 'whatever1' })
      expect(res.statusCode).toBe(500)
      expect(res.json()).toEqual({ success: false, message: 'An error occurred' })
      spy.mockRestore()
    })
  })
})

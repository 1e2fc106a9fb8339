import { randomBytes } from 'node:crypto'
import type { FastifyInstance } from 'fastify'
import { afterAll, beforeAll } from 'vitest'
import { buildGroqTestApp, buildTestApp, type GroqTestApp, type TestApp, type TestAppOptions } from './app.js'

export interface TestUser {
  id: string
  email: string
  token: string
  headers: { authorization: string }
}

/** A user straight in the database: no bcrypt, and no signup limit (3 an hour per address would cap a test file at three). */
export async function createUser (app: FastifyInstance, label = 'user'): Promise<TestUser> {
  const email = `${label}-${randomBytes(4).toString('hex')}@example.com`
  const user = await app.usersRepository.create({ email, passwordHash: 'not-used', role: null, occupation: null, institution: null })
  if (user === undefined) throw new Error('user not created')
  const token = app.accessTokens.issue({ id: user.id, email })
  return { id: user.id, email, token, headers: { authorization: `Bearer ${token}` } }
}

export interface Users {
  alice: TestUser
  bob: TestUser
}

/**
 * The app of a describe block with two users, alice and bob, who must not see each other's data:
 * built before the block's tests (then `setup` runs) and closed after them. The object is filled
 * in by the beforeAll hook, so read its fields inside hooks and tests only.
 */
export function appWithUsers (options: TestAppOptions, setup?: (t: TestApp & Users) => Promise<void>): TestApp & Users {
  return withUsers(async () => await buildTestApp(options), setup)
}

/** appWithUsers with the app talking to a Groq mock of its own (`t.mock`). */
export function groqAppWithUsers (options: TestAppOptions, setup?: (t: GroqTestApp & Users) => Promise<void>): GroqTestApp & Users {
  return withUsers(async () => await buildGroqTestApp(options), setup)
}

function withUsers<A extends TestApp> (build: () => Promise<A>, setup?: (t: A & Users) => Promise<void>): A & Users {
  const t = {} as A & Users
  beforeAll(async () => {
    Object.assign(t, await build())
    t.alice = await createUser(t.app, 'alice')
    t.bob = await createUser(t.app, 'bob')
    await setup?.(t)
  })
  afterAll(async () => { await t.close?.() })
  return t
}

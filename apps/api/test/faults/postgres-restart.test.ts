import type { FastifyInstance } from 'fastify'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { buildApp, type RunnableConfig } from '../../src/app.js'
import { loadConfig } from '../../src/config.js'
import { TEST_REDIS_URL, testEnv, uniqueName } from '../helpers/app.js'
import { send, startLoadLoop, tally, type LoadRequest, type LoadSample } from '../helpers/load-loop.js'
import { OwnPostgres } from '../helpers/own-postgres.js'
import { makePdf } from '../helpers/pdf-fixtures.js'

// PostgreSQL (a throwaway cluster of our own) goes down while the API is under steady HTTP load, then
// comes back. During the outage every answer is clean JSON: /health stays 200 (liveness from memory),
// /health/ready is 503, routes that need the database answer 503 {success:false, message} (or the
// route's own soft failure), none hangs; once Postgres is back the same process serves normally.

const OUTAGE_MS = 3000
/** The pool's connection timeout is 2 s; nothing may wait longer than that plus slack. */
const MAX_WAIT_MS = 3000
const RECOVERY_BOUND_MS = 5000
/** Normal traffic after the recovery, all of which must be healthy. */
const TAIL_MS = 1500

interface Stack {
  app: FastifyInstance
  url: string
  mix: LoadRequest[]
}

// One throwaway cluster for both cases, each with a database of its own: every case leaves it running.
let pgServer: OwnPostgres
beforeAll(async () => { pgServer = await OwnPostgres.start() }, 60_000)
afterAll(async () => { await pgServer?.destroy() })

describe.each([
  { store: 'postgres', stop: 'fast' as const },
  { store: 'redis', stop: 'immediate' as const }
])('PostgreSQL restart under load (limit store: $store, shutdown: $stop)', ({ store, stop }) => {
  let stack: Stack

  beforeAll(async () => {
    const databaseUrl = await pgServer.createDatabase(`documind_${store}`)
    const config = loadConfig(testEnv(databaseUrl, `${uniqueName('fault_pg')}:`, store === 'redis', {
      ...(store === 'redis' ? { REDIS_URL: TEST_REDIS_URL } : {}),
      RATE_LIMIT_DEFAULT: '1000000 per hour',
      RATE_LIMIT_LOGIN: '1000000 per minute',
      RATE_LIMIT_SIGNUP: '1000000 per hour',
      QUERY_LIMIT_PER_DAY: '1000000'
    })) as RunnableConfig
    const app = await buildApp(config)
    await app.listen({ port: 0, host: '127.0.0.1' })
    const address = app.server.address()
    if (address === null || typeof address === 'string') throw new Error('no address')
    const url = `http://127.0.0.1:${address.port}`

    const signup = await send(url, { label: 'signup', method: 'POST', path: '/auth/signup', body: { email: 'pg@example.com', password: 'secret12' } })
    expect(signup.status).toBe(200)
    const auth = { authorization: `Bearer ${(JSON.parse(signup.body) as { token: string }).token}` }
    const form = new FormData()
    form.append('file', new Blob([await makePdf({ pages: ['The orchard is irrigated every Tuesday morning.'] })], { type: 'application/pdf' }), 'orchard.pdf')
    const uploaded = await fetch(`${url}/upload`, { method: 'POST', headers: auth, body: form })
    expect(await uploaded.json()).toMatchObject({ success: true })

    stack = {
      app,
      url,
      mix: [
        { label: 'login', method: 'POST', path: '/auth/login', body: { email: 'pg@example.com', password: 'secret12' } },
        { label: 'me', path: '/auth/me', headers: auth },
        { label: 'ask', method: 'POST', path: '/ask', headers: auth, body: { question: 'When is the orchard irrigated?' } },
        { label: 'documents', path: '/documents', headers: auth },
        { label: 'limits', path: '/limits', headers: auth },
        { label: 'preferences', path: '/voice/preferences', headers: auth },
        { label: 'health', path: '/health' },
        { label: 'ready', path: '/health/ready' }
      ]
    }
  }, 60_000)

  afterAll(async () => {
    await stack?.app.close()
  })

  /** Normal answers, route by route. */
  function healthy (s: LoadSample): boolean {
    if (s.status !== 200) return false
    const body = JSON.parse(s.body) as { success?: boolean }
    return body.success === true
  }

  it('answers clean JSON (503, never a hang or a bare 500) while Postgres is down, and recovers without a restart', { timeout: 45_000 }, async () => {
    const loop = startLoadLoop(stack.url, stack.mix, { concurrency: 6 })
    await new Promise((resolve) => setTimeout(resolve, 1500))
    const downAt = loop.now()
    await pgServer.stop(stop)
    const stoppedAt = loop.now()
    await new Promise((resolve) => setTimeout(resolve, OUTAGE_MS))
    const restartAt = loop.now()
    await pgServer.start()
    const upAt = loop.now()
    // Recovered once every route of the mix has answered normally a request sent after the restart;
    // then a tail of normal traffic.
    const pending = new Set(stack.mix.map((r) => r.label))
    const recovered = await loop.waitFor((s) => s.startedAt > upAt && healthy(s) && pending.delete(s.label) && pending.size === 0, RECOVERY_BOUND_MS + 1000)
    await new Promise((resolve) => setTimeout(resolve, TAIL_MS))
    const samples = await loop.stop()

    const unhealthy = samples.filter((s) => !healthy(s))
    const lastUnhealthy = Math.max(upAt, ...unhealthy.map((s) => s.startedAt + s.ms))
    const recoveryMs = lastUnhealthy - upAt
    const maxWait = Math.max(...samples.map((s) => s.ms))
    const during = samples.filter((s) => s.startedAt > stoppedAt + 200 && s.startedAt + s.ms < restartAt)
    console.log(`[fault postgres ${store}/${stop}] ${samples.length} requests; stop took ${(stoppedAt - downAt).toFixed(0)} ms, ` +
      `start took ${(upAt - restartAt).toFixed(0)} ms; max wait ${maxWait.toFixed(0)} ms; recovery ${recoveryMs.toFixed(0)} ms after Postgres accepted again; ` +
      `during the outage ${JSON.stringify(tally(during))}; whole run ${JSON.stringify(tally(samples))}`)

    for (const s of samples) {
      expect(s.status, `${s.label}: ${s.error ?? ''}`).toBeGreaterThan(0)
      expect(s.contentType, `${s.label} ${s.status}: ${s.body}`).toMatch(/^application\/json/)
      const body = JSON.parse(s.body) as { success?: boolean, message?: string }
      if (s.status !== 200) {
        // Every failure is a 503: readiness with its checks, the rest the envelope with a message.
        expect(s.status, `${s.label}: ${s.body}`).toBe(503)
        if (s.label === 'ready') expect(body).toMatchObject({ success: false, status: 'unavailable', checks: { postgres: expect.stringMatching(/^error/) } })
        else expect(body, `${s.label} ${s.status}`).toEqual({ success: false, message: expect.any(String) })
      }
    }
    // While the database was down: liveness up, readiness down, the database routes refused.
    const byLabel = (label: string) => during.filter((s) => s.label === label)
    expect(byLabel('health').length).toBeGreaterThan(0)
    expect(byLabel('health').every((s) => s.status === 200)).toBe(true)
    expect(byLabel('ready').length).toBeGreaterThan(0)
    expect(byLabel('ready').every((s) => s.status === 503)).toBe(true)
    for (const label of ['login', 'me', 'ask']) {
      expect(byLabel(label).length, label).toBeGreaterThan(0)
      expect(byLabel(label).every((s) => s.status === 503), `${label}: ${JSON.stringify(tally(byLabel(label)))}`).toBe(true)
    }
    // The soft failures (200 {success:false, message}) are fine for the listing routes.
    for (const label of ['documents', 'limits', 'preferences']) {
      expect(byLabel(label).every((s) => s.status === 503 || (s.status === 200 && JSON.parse(s.body).success === false)), label).toBe(true)
    }
    expect(maxWait).toBeLessThan(MAX_WAIT_MS)
    expect(recoveryMs).toBeLessThan(RECOVERY_BOUND_MS)
    expect(recovered, `not recovered: ${[...pending].join(', ')}`).not.toBeNull()
    const tail = samples.filter((s) => s.startedAt > recovered!.startedAt + recovered!.ms)
    expect(tail.length).toBeGreaterThan(10)
    expect(tail.every(healthy)).toBe(true)
    // Same process throughout: it is still listening and ready.
    expect((await send(stack.url, { label: 'ready', path: '/health/ready' })).status).toBe(200)
  })
})

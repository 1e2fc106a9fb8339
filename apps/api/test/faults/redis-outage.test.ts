import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { STORE_UNAVAILABLE_MESSAGE } from '../../src/plugins/app/limits/rate-limit-policy.js'
import { startTestCluster, type Cluster } from '../helpers/cluster.js'
import { send, startLoadLoop, tally, type LoadRequest, type LoadSample } from '../helpers/load-loop.js'
import { makePdf } from '../helpers/pdf-fixtures.js'
import { pm2Processes, type Pm2Process } from '../helpers/pm2-processes.js'
import { OwnRedis } from '../helpers/redis-server.js'

// Redis goes away (killed, then frozen) while a 2-worker PM2 cluster is under steady load. README
// "Rate limits / Store outage": no request waits more than about a second, credential routes fail
// closed (503 + Retry-After: 5), the others fail open, and the service recovers by itself within
// seconds of Redis coming back, without any worker restarting.

const OUTAGE_MS = 3000
/** "About a second" (connect/command timeouts of 500 ms, one retry) plus scheduling slack on a loaded 2-core box. */
const MAX_WAIT_MS = 1500
const RECOVERY_BOUND_MS = 5000
/** Normal traffic after the recovery, all of which must get normal answers. */
const TAIL_MS = 1500
/** Consecutive normal logins that show every worker has its Redis connection back. */
const RECOVERED_STREAK = 6

describe('Redis outage under load (PM2 cluster, 2 workers)', () => {
  let redis: OwnRedis
  let cluster: Cluster
  let mix: LoadRequest[]
  let workersBefore: Pm2Process[]

  beforeAll(async () => {
    redis = await OwnRedis.start()
    cluster = await startTestCluster('fault_redis', {
      REDIS_URL: redis.url,
      // The load must measure the outage, not the limits.
      RATE_LIMIT_DEFAULT: '1000000 per hour',
      RATE_LIMIT_LOGIN: '1000000 per minute',
      RATE_LIMIT_SIGNUP: '1000000 per hour',
      QUERY_LIMIT_PER_DAY: '1000000'
    })
    const signup = await send(cluster.url, { label: 'signup', method: 'POST', path: '/auth/signup', body: { email: 'outage@example.com', password: 'secret12' } })
    expect(signup.status).toBe(200)
    const token = (JSON.parse(signup.body) as { token: string }).token
    const auth = { authorization: `Bearer ${token}` }

    const form = new FormData()
    form.append('file', new Blob([await makePdf({ pages: ['The lighthouse lamp is trimmed at dusk by the keeper.'] })], { type: 'application/pdf' }), 'lighthouse.pdf')
    const uploaded = await fetch(`${cluster.url}/upload`, { method: 'POST', headers: auth, body: form })
    expect(await uploaded.json()).toMatchObject({ success: true })

    mix = [
      { label: 'login', method: 'POST', path: '/auth/login', body: { email: 'nobody@example.com', password: 'wrong-password' } },
      { label: 'me', path: '/auth/me', headers: auth },
      { label: 'ask', method: 'POST', path: '/ask', headers: auth, body: { question: 'When is the lamp trimmed?' } },
      { label: 'limits', path: '/limits', headers: auth },
      { label: 'documents', path: '/documents', headers: auth },
      { label: 'health', path: '/health' },
      // Clearing the conversation needs the store itself: it may answer 503, never claim success or 500.
      { label: 'clear', method: 'POST', path: '/clear', headers: auth }
    ]
    workersBefore = await pm2Processes(cluster)
    expect(workersBefore.map((w) => w.status)).toEqual(['online', 'online'])
  }, 90_000)

  afterAll(async () => {
    redis?.thaw()
    expect(await cluster?.stop()).toBe(0)
    await redis?.kill()
  })

  /** Everything the README promises for one sample, whatever the phase. */
  function checkSample (s: LoadSample): void {
    expect(s.status, `${s.label}: ${s.error ?? ''} ${s.body}`).toBeGreaterThan(0)
    expect(s.contentType, s.label).toMatch(/^application\/json/)
    if (s.label === 'login' || s.label === 'clear') {
      expect(s.label === 'login' ? [401, 503] : [200, 503], s.body).toContain(s.status)
      if (s.status === 503) {
        expect(JSON.parse(s.body)).toEqual({ success: false, message: STORE_UNAVAILABLE_MESSAGE })
        expect(s.headers['retry-after']).toBe('5')
      }
    } else {
      // Fail open: the other routes keep answering normally.
      expect(s.status, `${s.label}: ${s.body}`).toBe(200)
      expect(JSON.parse(s.body), s.label).toMatchObject({ success: true })
    }
  }

  async function runOutage (kind: 'kill' | 'freeze'): Promise<void> {
    const loop = startLoadLoop(cluster.url, mix, { concurrency: 6 })
    await new Promise((resolve) => setTimeout(resolve, 1500))
    const downAt = loop.now()
    if (kind === 'kill') await redis.kill()
    else redis.freeze()
    await new Promise((resolve) => setTimeout(resolve, OUTAGE_MS))
    const upAt = loop.now()
    if (kind === 'kill') await redis.start()
    else redis.thaw()
    // Recovered once both workers answer logins normally again: a run of consecutive 401s (the cluster
    // hands fresh connections to the workers in turn), then a tail of normal traffic.
    let streak = 0
    const recovered = await loop.waitFor((s) => {
      if (s.label !== 'login' || s.startedAt <= upAt) return false
      streak = s.status === 401 ? streak + 1 : 0
      return streak >= RECOVERED_STREAK
    }, RECOVERY_BOUND_MS + 1000)
    await new Promise((resolve) => setTimeout(resolve, TAIL_MS))
    const samples = await loop.stop()

    const before = samples.filter((s) => s.startedAt + s.ms < downAt)
    // Requests that started and ended inside the outage (a second after it began, so the cut is seen).
    const during = samples.filter((s) => s.startedAt > downAt + 1000 && s.startedAt + s.ms < upAt && s.label !== 'clear')
    const logins503 = samples.filter((s) => s.label === 'login' && s.status === 503)
    const lastClosed = Math.max(...logins503.map((s) => s.startedAt + s.ms))
    const recoveryMs = Math.max(0, lastClosed - upAt)
    const maxWait = Math.max(...samples.map((s) => s.ms))
    const maxWaitDuring = Math.max(...samples.filter((s) => s.startedAt + s.ms > downAt && s.startedAt < upAt + 1000).map((s) => s.ms))
    const ready = await send(cluster.url, { label: 'ready', path: '/health/ready' })

    console.log(`[fault redis ${kind}] ${samples.length} requests; max wait ${maxWait.toFixed(0)} ms overall, ` +
      `${maxWaitDuring.toFixed(0)} ms around the outage; recovery ${recoveryMs.toFixed(0)} ms after Redis returned; ` +
      `${JSON.stringify(tally(samples))}`)
    const slow = samples.filter((s) => s.ms > 1000).map((s) => `${s.label}:${s.status}:${s.ms.toFixed(0)}ms@${(s.startedAt - downAt).toFixed(0)}`)
    if (slow.length > 0) console.log(`[fault redis ${kind}] requests over 1 s: ${slow.join(' ')}`)

    for (const s of samples) checkSample(s)
    expect(before.filter((s) => s.label === 'login').every((s) => s.status === 401)).toBe(true)
    // During the outage login fails closed on both workers, everything else stays up.
    const duringLogins = during.filter((s) => s.label === 'login')
    expect(duringLogins.length).toBeGreaterThan(3)
    expect(duringLogins.every((s) => s.status === 503)).toBe(true)
    expect(during.filter((s) => s.label !== 'login').length).toBeGreaterThan(10)
    expect(maxWait).toBeLessThan(MAX_WAIT_MS)
    expect(recoveryMs).toBeLessThan(RECOVERY_BOUND_MS)
    // The tail of the run is all normal again.
    expect(recovered).not.toBeNull()
    const tail = samples.filter((s) => s.startedAt > recovered!.startedAt + recovered!.ms && s.label === 'login')
    expect(tail.length).toBeGreaterThan(0)
    expect(tail.every((s) => s.status === 401)).toBe(true)
    expect(ready.status).toBe(200)
    // Nothing crashed or was restarted.
    const workersAfter = await pm2Processes(cluster)
    expect(workersAfter).toEqual(workersBefore)
  }

  it('Redis killed: credential routes 503, others 200, no request over ~1 s, recovery < 5 s, no restart', { timeout: 40_000 }, async () => {
    await runOutage('kill')
  })

  it('Redis frozen (SIGSTOP, sockets stay open): same guarantees', { timeout: 40_000 }, async () => {
    await runOutage('freeze')
  })
})

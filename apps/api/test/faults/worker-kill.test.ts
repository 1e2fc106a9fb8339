import autocannon from 'autocannon'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { startTestCluster, type Cluster } from '../helpers/cluster.js'
import { send, waitUntil } from '../helpers/load-loop.js'
import { pm2Processes } from '../helpers/pm2-processes.js'

// kill -9 of one of two PM2 workers under load: PM2 starts a replacement (new pid, both online again),
// the other worker keeps serving, and the only failed requests are the ones the dead worker held.

const CONNECTIONS = 20
/**
 * At most the requests in flight on the killed worker (about half the connections), with room for a
 * reconnect race. Errors, timeouts and non-2xx answers all count.
 */
const MAX_FAILURES = CONNECTIONS * 2

describe('kill -9 of a PM2 worker under load', () => {
  let cluster: Cluster
  let token: string

  beforeAll(async () => {
    cluster = await startTestCluster('fault_kill', {
      RATE_LIMIT_DEFAULT: '100000000 per hour',
      RATE_LIMIT_SIGNUP: '1000 per hour'
    })
    const signup = await send(cluster.url, { label: 'signup', method: 'POST', path: '/auth/signup', body: { email: 'kill@example.com', password: 'secret12' } })
    expect(signup.status).toBe(200)
    token = (JSON.parse(signup.body) as { token: string }).token
  }, 90_000)

  afterAll(async () => {
    expect(await cluster?.stop()).toBe(0)
  })

  it('PM2 replaces the killed worker; failures are bounded and counted', { timeout: 45_000 }, async () => {
    const before = await pm2Processes(cluster)
    expect(before.map((w) => w.status)).toEqual(['online', 'online'])
    const victim = before[0]!

    // A database-backed authenticated route, so the load exercises the whole stack.
    const load = autocannon({
      url: `${cluster.url}/auth/me`,
      headers: { authorization: `Bearer ${token}` },
      connections: CONNECTIONS,
      duration: 10,
      timeout: 5
    })
    await new Promise((resolve) => setTimeout(resolve, 3000))
    process.kill(victim.pid, 'SIGKILL')
    // The replacement: a new pid for that PM2 id, both online.
    const replacedMs = await waitUntil(async () => {
      const now = await pm2Processes(cluster)
      return now.length === 2 && now.every((w) => w.status === 'online') && now.find((w) => w.id === victim.id)?.pid !== victim.pid
    }, 15_000, 200)
    const result = await load

    const after = await pm2Processes(cluster)
    const failures = result.errors + result.timeouts + result.non2xx
    console.log(`[fault kill -9] ${result.requests.total} requests in 10 s, ${failures} failed ` +
      `(errors ${result.errors}, timeouts ${result.timeouts}, non-2xx ${result.non2xx}, resets ${result.resets}); ` +
      `replacement online ${replacedMs.toFixed(0)} ms after the kill (pid ${victim.pid} -> ${after.find((w) => w.id === victim.id)?.pid}); ` +
      `p99 latency ${result.latency.p99} ms, max ${result.latency.max} ms`)

    expect(after).toHaveLength(2)
    expect(after.every((w) => w.status === 'online')).toBe(true)
    expect(after.map((w) => w.pid)).not.toContain(victim.pid)
    expect(after.find((w) => w.id === victim.id)!.restarts).toBe(victim.restarts + 1)
    // The survivor was not touched.
    expect(after.find((w) => w.id !== victim.id)).toEqual(before.find((w) => w.id !== victim.id))
    expect(result.requests.total).toBeGreaterThan(1000)
    expect(failures).toBeLessThanOrEqual(MAX_FAILURES)
    // A connection the cluster master was handing to the worker as it died is never answered (Node's
    // round-robin handoff waits for an ack that never comes): the client's own timeout ends it. Rare.
    expect(result.timeouts).toBeLessThanOrEqual(2)

    // Both workers serve again: fresh connections are spread over them and all succeed.
    const statuses = await Promise.all(Array.from({ length: 20 }, async () =>
      (await send(cluster.url, { label: 'me', path: '/auth/me', headers: { authorization: `Bearer ${token}` } })).status))
    expect(statuses.every((s) => s === 200)).toBe(true)
  })
})

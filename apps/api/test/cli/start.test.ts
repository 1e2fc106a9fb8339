import { execFile } from 'node:child_process'
import { mkdtemp, readFile, rm, stat } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { promisify } from 'node:util'
import { afterEach, describe, expect, it } from 'vitest'
import { REPO_ROOT, startCluster, startTestCluster, type Cluster } from '../helpers/cluster.js'

/** `npm stop` as a user runs it: the compiled stop.js from `cwd`, DATA_DIR only when given. */
async function npmStop (cwd: string, dataDir?: string): Promise<string> {
  const env = { ...process.env }
  delete env.DATA_DIR
  if (dataDir !== undefined) env.DATA_DIR = dataDir
  const { stdout } = await promisify(execFile)(process.execPath, [join(REPO_ROOT, 'apps/api/dist/cli/stop.js')], { cwd, env })
  return stdout
}

// The real thing: the launcher starts 2 PM2 workers from compiled code; the limits must hold across both.
describe.each([
  { store: 'Redis', redis: true },
  { store: 'Postgres (no REDIS_URL)', redis: false }
])('PM2 cluster with the $store limit store', ({ redis }) => {
  let cluster: Cluster | undefined
  afterEach(async () => {
    const code = await cluster?.stop()
    expect(code).toBe(0)
  })

  it('lets exactly 3 of 10 signups and exactly 5 of 10 logins through from one address', { timeout: 90_000 }, async () => {
    cluster = await startTestCluster('cluster', {}, { sharedRedis: redis })
    const output = cluster.output()
    expect(output).toContain('Workers      2 (PM2 cluster mode)')
    expect(output).toContain(redis ? 'Limit store  Redis' : 'Limit store  Postgres')
    expect(output).toMatch(/App \[documind-api:0\] online/)
    expect(output).toMatch(/App \[documind-api:1\] online/)

    const post = async (path: string, body: object) => {
      // A new connection per request, so the cluster spreads them over both workers.
      const res = await fetch(`${cluster!.url}${path}`, {
        method: 'POST',
        headers: { 'content-type': 'application/json', connection: 'close' },
        body: JSON.stringify(body)
      })
      return { status: res.status, body: await res.json() as { token?: string } }
    }

    const signups = await Promise.all(Array.from({ length: 10 }, async (_, i) => await post('/auth/signup', { email: `cluster${i}@example.com`, password: 'secret12' })))
    const created = signups.map((r, i) => ({ ...r, i })).filter((r) => r.status === 200)
    expect(created).toHaveLength(3)
    expect(signups.filter((r) => r.status === 429)).toHaveLength(7)

    const email = `cluster${created[0]!.i}@example.com`
    const logins = await Promise.all(Array.from({ length: 10 }, async () => await post('/auth/login', { email, password: 'secret12' })))
    expect(logins.filter((r) => r.status === 200)).toHaveLength(5)
    expect(logins.filter((r) => r.status === 429)).toHaveLength(5)
  })
})

describe('zero-config start (no DATABASE_URL, no REDIS_URL, no secret)', () => {
  it('runs on an embedded PostgreSQL with a generated secret that survives restarts', { timeout: 120_000 }, async () => {
    const dataDir = await mkdtemp(join(tmpdir(), 'documind-zero-config-'))
    try {
      const first = await startCluster({ WEB_CONCURRENCY: '2', BCRYPT_COST: '4' }, { dataDir })
      let token: string
      try {
        expect(first.output()).toMatch(/Postgres {5}embedded, data in .*documind-zero-config-.*\/postgres/)
        expect(first.output()).toContain('Limit store  Postgres')
        expect(first.output()).toContain('LLM          offline extractive answers')
        const res = await fetch(`${first.url}/auth/signup`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ email: 'zero@example.com', password: 'secret12' }) })
        expect(res.status).toBe(200)
        token = (await res.json() as { token: string }).token
      } finally {
        expect(await first.stop()).toBe(0)
      }
      const secret = await readFile(join(dataDir, 'jwt-secret'), 'utf8')
      expect(secret.trim().length).toBeGreaterThanOrEqual(60)
      expect((await stat(join(dataDir, 'jwt-secret'))).mode & 0o777).toBe(0o600)

      // Restart: same data, same secret, so the user and the token are still good.
      const second = await startCluster({ WEB_CONCURRENCY: '1', BCRYPT_COST: '4' }, { dataDir })
      try {
        const me = await fetch(`${second.url}/auth/me`, { headers: { authorization: `Bearer ${token}` } })
        expect(me.status).toBe(200)
        expect(await me.json()).toMatchObject({ user: { email: 'zero@example.com' } })
        expect(second.output()).toContain(`Stop         Ctrl-C, or \`DATA_DIR=${dataDir} npm stop\` from another terminal`)

        // `npm stop` without the stack's DATA_DIR looks in ./.data, says so and how to name the other one.
        const elsewhere = await mkdtemp(join(tmpdir(), 'documind-npm-stop-'))
        try {
          expect(await npmStop(elsewhere)).toBe(
            `DocuMind Voice is not running with the data directory ${join(elsewhere, '.data')} (no launcher.pid there).\n` +
            'A stack started with another DATA_DIR is stopped with the same one: DATA_DIR=/path/to/it npm stop\n')
        } finally {
          await rm(elsewhere, { recursive: true, force: true })
        }
        expect(await npmStop(REPO_ROOT, dataDir)).toBe('DocuMind Voice stopped\n')
      } finally {
        expect(await second.stop()).toBe(0)
      }
      // A clean stop: one line per step, none of PM2's polling ("failed to kill - retrying") or
      // restart notices ("will restart in"), as nothing restarts.
      const stopLog = second.output().slice(second.output().indexOf('[documind] stopping...'))
      expect(stopLog.split('\n').filter((line) => line.startsWith('[documind]') || line.includes('PM2'))).toEqual([
        '[documind] stopping...',
        '[documind] workers stopped',
        '[documind] embedded PostgreSQL stopped',
        '[documind] stopped'
      ])
    } finally {
      await rm(dataDir, { recursive: true, force: true })
    }
  })
})

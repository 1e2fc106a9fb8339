import { execFile } from 'node:child_process'
import { join } from 'node:path'
import { promisify } from 'node:util'
import autocannon from 'autocannon'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { REPO_ROOT, startTestCluster, type Cluster } from '../helpers/cluster.js'

const PM2_CLI = join(REPO_ROOT, 'node_modules/pm2/bin/pm2')

describe('graceful reload', () => {
  let cluster: Cluster
  beforeAll(async () => {
    // The default bcrypt cost, as a deployment runs it.
    cluster = await startTestCluster('reload', { BCRYPT_COST: '12' })
  }, 90_000)
  afterAll(async () => {
    expect(await cluster.stop()).toBe(0)
  })

  it('loses no request while `pm2 reload` replaces every worker under steady load', { timeout: 90_000 }, async () => {
    const pm2 = async (...args: string[]) => await promisify(execFile)(process.execPath, [PM2_CLI, ...args], {
      env: { ...process.env, PM2_HOME: join(cluster.dataDir, 'pm2') }
    })
    // jlist may print notices before the JSON line.
    const pids = async () => {
      const json = (await pm2('jlist')).stdout.split('\n').find((line) => line.startsWith('[{'))
      return (JSON.parse(json ?? '[]') as Array<{ pid: number }>).map((p) => p.pid).sort()
    }
    const before = await pids()
    expect(before).toHaveLength(2)

    const load = autocannon({ url: `${cluster.url}/health`, connections: 20, duration: 10 })
    await new Promise((resolve) => setTimeout(resolve, 2000))
    await pm2('reload', 'documind-api')
    const result = await load

    const after = await pids()
    expect(after).toHaveLength(2)
    expect(after.some((pid) => before.includes(pid))).toBe(false)
    expect(result.requests.total).toBeGreaterThan(1000)
    expect({ errors: result.errors, timeouts: result.timeouts, non2xx: result.non2xx, resets: result.resets })
      .toEqual({ errors: 0, timeouts: 0, non2xx: 0, resets: 0 })
  })
})

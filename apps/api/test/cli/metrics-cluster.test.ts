import { execFile } from 'node:child_process'
import { readdir, readFile } from 'node:fs/promises'
import { join } from 'node:path'
import { promisify } from 'node:util'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { REPO_ROOT, startTestCluster, type Cluster } from '../helpers/cluster.js'

const N = 40

function sample (text: string, series: string): number | undefined {
  const line = text.split('\n').find((l) => l.startsWith(`${series} `))
  return line === undefined ? undefined : Number(line.slice(series.length + 1))
}

// The real launcher with 2 PM2 workers: whichever worker a scrape reaches, it reports the whole cluster.
describe('GET /metrics on a 2-worker PM2 cluster', () => {
  let cluster: Cluster
  let token: string
  beforeAll(async () => {
    cluster = await startTestCluster('metrics_cluster')
    // No METRICS_TOKEN given: the launcher generated one, and its banner says where it is.
    token = (await readFile(join(cluster.dataDir, 'metrics-token'), 'utf8')).trim()
  }, 90_000)
  afterAll(async () => { expect(await cluster.stop()).toBe(0) })

  it('banner says how to scrape', () => {
    expect(cluster.output()).toContain(`Metrics      ${cluster.url}/metrics with header "Authorization: Bearer $(cat ${join(cluster.dataDir, 'metrics-token')})"`)
  })

  it('every scrape counts exactly the requests all workers served, and shows each worker\'s process metrics', { timeout: 60_000 }, async () => {
    // Fresh connections, so the cluster spreads them over both workers.
    for (let i = 0; i < N; i += 10) {
      await Promise.all(Array.from({ length: 10 }, async () => {
        const res = await fetch(`${cluster.url}/health`, { headers: { connection: 'close' } })
        expect(res.status).toBe(200)
        await res.arrayBuffer()
      }))
    }
    const unauthorized = await fetch(`${cluster.url}/metrics`, { headers: { connection: 'close' } })
    expect(unauthorized.status).toBe(401)

    for (let i = 0; i < 6; i++) {
      const res = await fetch(`${cluster.url}/metrics`, { headers: { authorization: `Bearer ${token}`, connection: 'close' } })
      expect(res.status).toBe(200)
      expect(res.headers.get('content-type')).toBe('text/plain; version=0.0.4; charset=utf-8')
      const text = await res.text()
      expect(sample(text, 'http_request_duration_seconds_count{method="GET",route="/health",status_code="200"}')).toBe(N)
      expect(sample(text, 'http_request_duration_seconds_bucket{method="GET",route="/health",status_code="200",le="+Inf"}')).toBe(N)
      for (const worker of ['0', '1']) {
        expect(text).toMatch(new RegExp(`^process_resident_memory_bytes\\{worker="${worker}"\\} \\d+`, 'm'))
        expect(text).toMatch(new RegExp(`^nodejs_eventloop_lag_p99_seconds\\{worker="${worker}"\\} `, 'm'))
        expect(text).toMatch(new RegExp(`^process_start_time_seconds\\{worker="${worker}"\\} \\d+`, 'm'))
      }
      if (i === 0 && process.env.METRICS_SAMPLE !== undefined) console.log(text)
    }
  })

  it('after `pm2 reload` every scrape still reaches both workers, through one socket each', { timeout: 60_000 }, async () => {
    await promisify(execFile)(process.execPath, [join(REPO_ROOT, 'node_modules/pm2/bin/pm2'), 'reload', 'documind-api'], {
      env: { ...process.env, PM2_HOME: join(cluster.dataDir, 'pm2') }
    })
    // The old workers close their sockets as they exit: that must not remove their replacements'.
    await new Promise((resolve) => setTimeout(resolve, 2000))
    expect((await readdir(join(cluster.dataDir, 'metrics'))).sort()).toEqual(['worker-0.sock', 'worker-1.sock'])
    for (let i = 0; i < 4; i++) {
      const res = await fetch(`${cluster.url}/metrics`, { headers: { authorization: `Bearer ${token}`, connection: 'close' } })
      const text = await res.text()
      for (const worker of ['0', '1']) expect(text).toMatch(new RegExp(`^process_resident_memory_bytes\\{worker="${worker}"\\} \\d+`, 'm'))
    }
  })
})

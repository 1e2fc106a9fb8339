import { spawn, type ChildProcess } from 'node:child_process'
import { once } from 'node:events'
import { existsSync } from 'node:fs'
import { mkdtemp, rm, writeFile } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { freePort } from '@documind/harness'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { startTestCluster, type Cluster } from '../helpers/cluster.js'

// Debian's prometheus (installed by .ci/run) scrapes a 2-worker stack started by the real launcher,
// with the token the launcher generated, as deploy/prometheus/prometheus.yml does in Docker.
const PROMETHEUS = process.env.PROMETHEUS_BIN ?? '/usr/bin/prometheus'
const SENT = 60

interface QueryResult { status: string, data: { result: Array<{ metric: Record<string, string>, value: [number, string] }> } }

describe('a real Prometheus scraping the 2-worker cluster', () => {
  let cluster: Cluster
  let prometheus: ChildProcess
  let dir: string
  let api: string
  let log = ''

  async function query (promql: string): Promise<QueryResult['data']['result']> {
    const res = await fetch(`${api}/api/v1/query?query=${encodeURIComponent(promql)}`)
    const body = await res.json() as QueryResult
    expect(body.status, JSON.stringify(body)).toBe('success')
    return body.data.result
  }

  /** The first value of a query, once `accept` holds for it (Prometheus scrapes every second). */
  async function until (promql: string, accept: (value: number) => boolean, timeoutMs = 20_000): Promise<number> {
    const deadline = Date.now() + timeoutMs
    for (;;) {
      const [first] = await query(promql)
      const value = first === undefined ? Number.NaN : Number(first.value[1])
      if (accept(value) || Date.now() > deadline) return value
      await new Promise((resolve) => setTimeout(resolve, 250))
    }
  }

  beforeAll(async () => {
    if (!existsSync(PROMETHEUS)) throw new Error(`${PROMETHEUS} not found: install Debian's prometheus package (.ci/run does)`)
    cluster = await startTestCluster('prometheus')
    dir = await mkdtemp(join(tmpdir(), 'documind-prometheus-'))
    const config = join(dir, 'prometheus.yml')
    await writeFile(config, [
      'global:',
      '  scrape_interval: 1s',
      '  scrape_timeout: 900ms',
      'scrape_configs:',
      '  - job_name: documind',
      '    authorization:',
      `      credentials_file: ${join(cluster.dataDir, 'metrics-token')}`,
      '    static_configs:',
      `      - targets: ['${new URL(cluster.url).host}']`,
      ''
    ].join('\n'))
    const port = await freePort()
    api = `http://127.0.0.1:${port}`
    prometheus = spawn(PROMETHEUS, [
      `--config.file=${config}`,
      `--storage.tsdb.path=${join(dir, 'data')}`,
      `--web.listen-address=127.0.0.1:${port}`,
      '--log.level=warn'
    ], { stdio: ['ignore', 'pipe', 'pipe'] })
    prometheus.stdout!.on('data', (chunk: Buffer) => { log += chunk.toString() })
    prometheus.stderr!.on('data', (chunk: Buffer) => { log += chunk.toString() })
    const deadline = Date.now() + 30_000
    for (;;) {
      const ready = await fetch(`${api}/-/ready`).then((r) => r.status === 200, () => false)
      if (ready) break
      if (prometheus.exitCode !== null || Date.now() > deadline) throw new Error(`prometheus did not start:\n${log}`)
      await new Promise((resolve) => setTimeout(resolve, 200))
    }
  }, 90_000)

  afterAll(async () => {
    if (prometheus !== undefined && prometheus.exitCode === null) {
      prometheus.kill('SIGTERM')
      await once(prometheus, 'exit')
    }
    if (dir !== undefined) await rm(dir, { recursive: true, force: true })
    expect(await cluster?.stop()).toBe(0)
  })

  it('counts exactly the requests sent over both workers, and answers a histogram quantile', { timeout: 60_000 }, async () => {
    expect(await until('up{job="documind"}', (v) => v === 1), log).toBe(1)
    const counted = 'sum(http_request_duration_seconds_count{job="documind",method="GET",route="/health/ready"}) or vector(0)'
    // What the stack has served already (the launcher's own readiness checks), settled over two scrapes.
    let before = Number((await query(counted))[0]!.value[1])
    for (;;) {
      await new Promise((resolve) => setTimeout(resolve, 2100))
      const again = Number((await query(counted))[0]!.value[1])
      if (again === before) break
      before = again
    }
    // Fresh connections, so the cluster spreads them over both workers.
    for (let i = 0; i < SENT; i += 10) {
      await Promise.all(Array.from({ length: 10 }, async () => {
        const res = await fetch(`${cluster.url}/health/ready`, { headers: { connection: 'close' } })
        expect(res.status).toBe(200)
        await res.arrayBuffer()
      }))
    }
    expect(await until(counted, (v) => v === before + SENT)).toBe(before + SENT)
    // Two more scrapes later it has not drifted: every scrape sums the same workers.
    await new Promise((resolve) => setTimeout(resolve, 2500))
    expect(Number((await query(counted))[0]!.value[1])).toBe(before + SENT)

    const p95 = await until('histogram_quantile(0.95, sum by (le) (http_request_duration_seconds_bucket{job="documind",route="/health/ready"}))', (v) => Number.isFinite(v))
    expect(p95).toBeGreaterThan(0)
    expect(p95).toBeLessThan(10)
    // Both workers' process metrics, side by side under their worker label.
    const workers = await query('process_resident_memory_bytes{job="documind"}')
    expect(workers.map((r) => r.metric.worker).sort()).toEqual(['0', '1'])
    console.log(`[prometheus] sent ${SENT} GET /health/ready; Prometheus counted ${before} before and ${before + SENT} after; p95 ${(p95 * 1000).toFixed(1)} ms`)
  })
})

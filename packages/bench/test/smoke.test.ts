// Smoke test against the real stack: the launcher under PM2, a throwaway database, the bare
// cluster, autocannon in its own process, and the teardown. Only the health and memory phases,
// one second of load each, so it stays short inside `npm test`; the whole `--quick` run
// (about 50 s on 2 cores) is `npm run bench -- --quick`.
import { execFile } from 'node:child_process'
import { existsSync } from 'node:fs'
import { mkdtemp, readFile, rm } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join, resolve } from 'node:path'
import { fileURLToPath } from 'node:url'
import { promisify } from 'node:util'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'

const run = promisify(execFile)
const REPO = resolve(fileURLToPath(new URL('../../..', import.meta.url)))
const CLI = join(REPO, 'packages/bench/dist/cli.js')
const LAUNCHER = join(REPO, 'apps/api/dist/cli/start.js')

// Runs the compiled bench and API: `npm test` builds both first.
describe.skipIf(!existsSync(LAUNCHER))('bench --quick smoke (real stack)', () => {
  let dir: string

  beforeAll(async () => {
    dir = await mkdtemp(join(tmpdir(), 'bench-smoke-'))
  })

  afterAll(async () => {
    await rm(dir, { recursive: true, force: true })
  })

  it('measures, prints the table, writes the JSON and tears everything down', async () => {
    const json = join(dir, 'out.json')
    const { stdout } = await run(process.execPath, [CLI, '--quick', '--only', 'health,memory', '--duration', '1', '--json', json], {
      cwd: REPO, timeout: 110_000, maxBuffer: 16 * 1024 * 1024
    })
    expect(stdout).toContain('GET /health req/s, full stack')
    expect(stdout).toContain('RSS per worker, idle')
    const result = JSON.parse(await readFile(json, 'utf8')) as {
      health: { ratio: number, p99_ms: number, rps: number, baseline_rps: number }
      memory: { idle_rss_mb: number, boot_rss_mb: number, idle: unknown[] }
      goals: Array<{ id: string, met: boolean | null }>
      workers: Array<{ pid: number, status: string }>
      config: { database_name: string }
    }
    expect(result.health.rps).toBeGreaterThan(0)
    expect(result.health.baseline_rps).toBeGreaterThan(0)
    expect(result.health.ratio).toBeGreaterThan(0)
    expect(result.health.p99_ms).toBeGreaterThan(0)
    expect(result.memory.idle).toHaveLength(2)
    expect(result.memory.idle_rss_mb).toBeGreaterThan(20)
    expect(result.memory.boot_rss_mb).toBeGreaterThan(20)
    expect(result.goals.map((g) => [g.id, g.met === null])).toEqual([
      ['health.stack_over_fastify', false], ['health.p99_over_fastify', false], ['health.metrics_cost', false], ['instructions.ratio', true], ['login.ratio', true], ['ask.p95_over_latency', true],
      ['ingest.health_p99_ms', true], ['ingest.ratio', true], ['memory.idle_rss_mb', false]
    ])
    expect(result.workers.every((w) => w.status === 'online')).toBe(true)
    // Teardown: the workers are gone and the database was dropped.
    for (const w of result.workers) expect(existsSync(`/proc/${w.pid}`)).toBe(false)
    const { stdout: dbs } = await run('psql', ['-h', '127.0.0.1', '-U', 'postgres', '-Atc', `SELECT count(*) FROM pg_database WHERE datname = '${result.config.database_name}'`])
      .catch(() => ({ stdout: '0' }))
    expect(dbs.trim()).toBe('0')
  }, 120_000)
})

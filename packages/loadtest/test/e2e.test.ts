// End to end: a short version of every scenario against the real local cluster, started through
// the same code path as `npm run loadtest` without --target (build if stale, groq-mock in-process,
// the API launcher with PM2 workers, readiness wait, teardown).
//
// The stack gets a throwaway database on the tests' PostgreSQL (TEST_ADMIN_DATABASE_URL), as every
// other test: the launcher's embedded PostgreSQL is proven by apps/api/test/cli/start.test.ts, and
// creating one here would cost another initdb.
//
// Optional environment:
//   LOADTEST_E2E_DATABASE_URL / LOADTEST_E2E_REDIS_URL / LOADTEST_E2E_REDIS_KEY_PREFIX
//     use this Postgres database / Redis instead
//   LOADTEST_E2E_SKIP=1   skip this file
import { existsSync } from 'node:fs'
import { join } from 'node:path'
import { createDatabase, type ThrowawayDatabase } from '@documind/harness'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { defaultConfig, type LoadTestConfig } from '../src/config.js'
import { renderScenario, renderSummary } from '../src/report/console.js'
import { runLoadTest } from '../src/run.js'
import { repoRoot } from '../src/stack.js'

const root = repoRoot()
const launcherSource = join(root, 'apps', 'api', 'src', 'cli', 'start.ts')
const enabled = existsSync(launcherSource) && process.env.LOADTEST_E2E_SKIP !== '1'

function e2eConfig (databaseUrl: string): LoadTestConfig {
  const stackEnv: Record<string, string> = {
    // Cheaper password hashing keeps the run short; the behaviour under test does not depend on it.
    BCRYPT_COST: '4',
    LOG_LEVEL: 'warn',
    DATABASE_URL: databaseUrl
  }
  if (process.env.LOADTEST_E2E_REDIS_URL !== undefined) stackEnv.REDIS_URL = process.env.LOADTEST_E2E_REDIS_URL
  if (process.env.LOADTEST_E2E_REDIS_KEY_PREFIX !== undefined) stackEnv.REDIS_KEY_PREFIX = process.env.LOADTEST_E2E_REDIS_KEY_PREFIX
  return {
    ...defaultConfig(),
    target: undefined,
    require: 'none',
    quiet: true,
    workers: 2,
    llmLatencyMs: 100,
    timeoutS: 60,
    readyTimeoutMs: 180_000,
    health: { requests: 100, connections: 100 },
    signups: { requests: 30 },
    logins: { attempts: 30, perAddress: 10 },
    stress: { operations: 100 },
    query: { questions: 20, perUser: 10, quotaProbe: true },
    upload: { users: 2, sizeBytes: 64 * 1024 },
    sustained: { durationMs: 5000, users: 8, rate: 20 },
    connections: 20,
    stackEnv
  }
}

describe.skipIf(!enabled)('e2e: every scenario against the real local cluster', () => {
  let database: ThrowawayDatabase | undefined
  beforeAll(async () => {
    if (process.env.LOADTEST_E2E_DATABASE_URL === undefined) database = await createDatabase('loadtest_e2e')
  })
  afterAll(async () => { await database?.drop() })

  it('starts the stack, runs every scenario, holds every expectation and tears down', async () => {
    const lines: string[] = []
    const report = await runLoadTest(e2eConfig(process.env.LOADTEST_E2E_DATABASE_URL ?? database!.url), { log: (line) => lines.push(line) })
    const transcript = [...lines, ...Object.values(report.scenarios).map((r, i) => renderScenario(r, i + 1)), renderSummary(report)].join('\n')

    expect(report.error, transcript).toBeNull()
    expect(report.mode).toBe('local')
    expect(report.stack).not.toBeNull()
    expect(report.xff, transcript).toMatchObject({ mode: 'per-user XFF', honoured: true })
    expect(Object.keys(report.scenarios)).toEqual(['health', 'signups', 'logins', 'stress', 'query', 'upload', 'sustained'])

    const failed = report.checks.filter((c) => !c.ok).map((c) => `${c.name}: ${c.detail}`)
    expect(failed, transcript).toEqual([])
    // The only acceptable warning: the paced sustained run falling a little behind on a busy machine.
    expect(report.checks.filter((c) => c.status === 'warn' && !c.name.startsWith('sustained: kept up')), transcript).toEqual([])

    const s = report.scenarios
    expect(s.health, transcript).toMatchObject({ total: 100, successful: 100, statusCodes: { 200: 100 } })
    expect(s.signups, transcript).toMatchObject({ total: 30, statusCodes: { 200: 3, 429: 27 } })
    expect(s.logins!.total - s.logins!.rateLimited, transcript).toBe(15)
    expect(s.stress, transcript).toMatchObject({ total: 100, http5xx: 0, errors: 0 })
    expect(s.query, transcript).toMatchObject({ total: 71, rateLimited: 1, failed: 0 })
    expect(s.upload, transcript).toMatchObject({ total: 12, failed: 0, statusCodes: { 200: 10, 403: 2 } })
    expect(s.sustained!.rateLimited, transcript).toBe(0)
    expect(s.sustained!.total, transcript).toBeGreaterThan(50)
    // Where the time went: the stack's own /metrics (token from DATA_DIR/metrics-token), read around
    // every measured phase; the server counted what the client sent, route by route.
    const where: string[] = []
    for (const r of Object.values(report.scenarios)) {
      expect(r.server?.available, `${r.name}: ${JSON.stringify(r.server)}`).toBe(true)
      if (r.server?.available !== true) continue
      where.push(r.server.line)
      expect(r.checks.find((c) => c.name.startsWith(`${r.name}: the server counted`))?.status, transcript).toBe('pass')
      // A timed scenario's requests cut off at its end may have reached the server.
      expect(r.server.requests, r.name).toBeGreaterThanOrEqual(r.total - r.errors)
      expect(r.server.requests, r.name).toBeLessThanOrEqual(r.total + r.unfinished)
      expect(r.server.workers.map((w) => w.worker), r.name).toEqual(['0', '1'])
    }
    const part = (name: 'logins' | 'query', key: string): number => {
      const b = report.scenarios[name]!.server
      return b?.available === true ? b.split.find((p) => p.key === key)!.count : 0
    }
    expect(part('logins', 'hashing')).toBeGreaterThan(0)
    expect(part('query', 'llm')).toBeGreaterThan(0)
    console.log(`Where the time went:\n  ${where.join('\n  ')}`)
    expect(report.overall.http5xx).toBe(0)
    expect(report.overall.errors).toBe(0)
    expect(report.ok, transcript).toBe(true)
    expect(report.exitCode).toBe(0)
  }, 900_000)
})

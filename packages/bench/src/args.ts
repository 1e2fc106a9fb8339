// Command-line parsing (pure): flags → options, with the per-mode plan of every phase.
import { availableParallelism } from 'node:os'
import { parseArgs } from 'node:util'

export const PHASES = ['health', 'instructions', 'login', 'ask', 'ingest', 'memory'] as const
export type Phase = typeof PHASES[number]

export interface Plan {
  health: { connections: number, warmupSec: number, measureSec: number, rounds: number }
  /**
   * The callgrind referee: requests before instrumentation, then instrumented but not counted, then
   * per sample; samples (median); connections; length of the idle sample (timer work per second).
   */
  instructions: { warmup: number, settle: number, requests: number, samples: number, connections: number, idleSec: number }
  bcrypt: { seconds: number, singleProcess: boolean }
  login: { users: number, connections: number, warmupLogins: number, measureSec: number }
  ask: { users: number, connections: number, warmupSec: number, measureSec: number, timeoutSec: number }
  ingest: { targetBytes: number, probeConnections: number, probeRate: number, idleProbeSec: number, uploads: number }
  /** Pause before RSS readings, so a just-finished phase's garbage is not counted. */
  settleSec: number
  /** Longest wait, from the ready banner, for the idle RSS to settle. */
  idleSettleMaxSec: number
}

export interface BenchOptions {
  command: 'run'
  quick: boolean
  jsonFile: string | undefined
  workers: number
  bcryptCost: number
  llmLatencyMs: number
  redis: boolean
  redisUrl: string
  embedded: boolean
  adminDatabaseUrl: string
  phases: Phase[]
  cpuProfDir: string | undefined
  failOnGoals: boolean
  /** Checkout to start instead of this one (A/B comparisons of a patched build). */
  repoRoot: string | undefined
  /** Extra environment for the stack (--env KEY=VALUE), e.g. to compare a setting. */
  extraEnv: Record<string, string>
  plan: Plan
}

export interface ProfileCommand {
  command: 'profile'
  paths: string[]
  top: number
}

export interface HelpCommand {
  command: 'help'
}

export type Command = BenchOptions | ProfileCommand | HelpCommand

export class UsageError extends Error {}

/** Short form for CI: every phase a few seconds, the whole run under a minute on 2 cores. */
export function quickPlan (): Plan {
  return {
    health: { connections: 100, warmupSec: 0.5, measureSec: 2, rounds: 1 },
    instructions: { warmup: 3000, settle: 2000, requests: 500, samples: 1, connections: 4, idleSec: 2 },
    bcrypt: { seconds: 3, singleProcess: false },
    login: { users: 8, connections: 12, warmupLogins: 4, measureSec: 7 },
    ask: { users: 8, connections: 200, warmupSec: 1, measureSec: 6, timeoutSec: 30 },
    ingest: { targetBytes: 2_000_000, probeConnections: 10, probeRate: 200, idleProbeSec: 2, uploads: 1 },
    settleSec: 1,
    // No wait: --quick reports the RSS right after boot as the idle one, marked as not settled.
    idleSettleMaxSec: 0
  }
}

/** The default run: about five minutes on 2 cores. */
export function fullPlan (): Plan {
  return {
    // Five rounds: on a shared VM the speed of the machine drifts by ±20% within a minute.
    health: { connections: 100, warmupSec: 3, measureSec: 8, rounds: 5 },
    instructions: { warmup: 30_000, settle: 10_000, requests: 2000, samples: 3, connections: 4, idleSec: 5 },
    bcrypt: { seconds: 4, singleProcess: true },
    login: { users: 16, connections: 16, warmupLogins: 8, measureSec: 30 },
    ask: { users: 20, connections: 200, warmupSec: 5, measureSec: 30, timeoutSec: 30 },
    ingest: { targetBytes: 10_000_000, probeConnections: 10, probeRate: 200, idleProbeSec: 3, uploads: 2 },
    settleSec: 3,
    idleSettleMaxSec: 45
  }
}

export const HELP = `Usage: node packages/bench/dist/cli.js [options]
       node packages/bench/dist/cli.js profile <file.cpuprofile|dir>... [--top N]

Measures the production stack (the real launcher, PM2 cluster mode) against its limits on this
machine and prints a table; see packages/bench/README.md.

Options:
  --quick                 short form for CI (each phase a few seconds, < 60 s in total)
  --json FILE             also write every figure as JSON
  --only LIST             phases to run, comma-separated: ${PHASES.join(',')} (default: all)
  --workers N             PM2 workers and bare-cluster workers (default: $WEB_CONCURRENCY or CPU count)
  --bcrypt-cost N         BCRYPT_COST of the stack (default: $BCRYPT_COST or 12)
  --llm-latency MS        groq-mock latency L for /ask (default 2000)
  --redis                 REDIS_URL for rate limits and the KV store (default: Postgres)
  --redis-url URL         Redis to use with --redis (default redis://127.0.0.1:6379)
  --embedded              embedded PostgreSQL started by the launcher instead of a fresh database
  --admin-database-url U  server to create the bench database on
                          (default: $BENCH_ADMIN_DATABASE_URL or postgres://postgres@127.0.0.1:5432/postgres)
  --health-connections N  connections for GET /health (default 100)
  --ask-connections N     connections for POST /ask (default 200)
  --login-connections N   connections for POST /auth/login (default 16)
  --duration S            measured seconds of every load phase (overrides the mode's)
  --ingest-mb MB          size of the ingested PDF (default 10, --quick 2)
  --cpu-prof DIR          V8 CPU profile of every API worker, written to DIR at the end (summary printed)
  --fail-on-goals         exit 1 when a goal is missed (default: exit 0 once the run completed)
  --env KEY=VALUE         extra environment for the stack (repeatable), e.g. --env DB_POOL_MAX=20
  --repo DIR              start DIR/apps/api/dist/cli/start.js (with DIR/pm2.config.js) instead of this
                          checkout's, e.g. a copy with a patch to compare
  -h, --help              this text

Exit codes: 0 done, 1 failed (or a goal missed with --fail-on-goals), 2 bad usage, 130/143 interrupted.`

function positiveInt (name: string, value: string | undefined, fallback: number): number {
  if (value === undefined || value === '') return fallback
  const n = Number(value)
  if (!Number.isInteger(n) || n <= 0) throw new UsageError(`${name} must be a positive integer, got "${value}"`)
  return n
}

function positiveNumber (name: string, value: string | undefined): number | undefined {
  if (value === undefined) return undefined
  const n = Number(value)
  if (!Number.isFinite(n) || n <= 0) throw new UsageError(`${name} must be a positive number, got "${value}"`)
  return n
}

/** KEY=VALUE pairs (--env), later ones winning. */
export function parseEnvPairs (pairs: readonly string[]): Record<string, string> {
  const env: Record<string, string> = {}
  for (const pair of pairs) {
    const eq = pair.indexOf('=')
    if (eq <= 0) throw new UsageError(`--env needs KEY=VALUE, got "${pair}"`)
    env[pair.slice(0, eq)] = pair.slice(eq + 1)
  }
  return env
}

export function parsePhases (value: string | undefined): Phase[] {
  if (value === undefined) return [...PHASES]
  const names = value.split(',').map((s) => s.trim()).filter((s) => s !== '')
  for (const name of names) {
    if (!(PHASES as readonly string[]).includes(name)) throw new UsageError(`unknown phase "${name}" (phases: ${PHASES.join(', ')})`)
  }
  if (names.length === 0) throw new UsageError('--only needs at least one phase')
  // Always in the canonical order.
  return PHASES.filter((p) => names.includes(p))
}

export function parseCommand (argv: readonly string[], env: NodeJS.ProcessEnv = process.env, cpus = availableParallelism()): Command {
  let parsed
  try {
    parsed = parseArgs({
      args: [...argv],
      allowPositionals: true,
      strict: true,
      options: {
        quick: { type: 'boolean' },
        json: { type: 'string' },
        only: { type: 'string' },
        workers: { type: 'string' },
        'bcrypt-cost': { type: 'string' },
        'llm-latency': { type: 'string' },
        redis: { type: 'boolean' },
        'redis-url': { type: 'string' },
        embedded: { type: 'boolean' },
        'admin-database-url': { type: 'string' },
        'health-connections': { type: 'string' },
        'ask-connections': { type: 'string' },
        'login-connections': { type: 'string' },
        duration: { type: 'string' },
        'ingest-mb': { type: 'string' },
        'cpu-prof': { type: 'string' },
        'fail-on-goals': { type: 'boolean' },
        repo: { type: 'string' },
        env: { type: 'string', multiple: true },
        top: { type: 'string' },
        help: { type: 'boolean', short: 'h' }
      }
    })
  } catch (err) {
    throw new UsageError((err as Error).message)
  }
  const { values, positionals } = parsed
  if (values.help === true) return { command: 'help' }
  if (positionals[0] === 'profile') {
    const paths = positionals.slice(1)
    if (paths.length === 0) throw new UsageError('profile needs at least one .cpuprofile file or directory')
    return { command: 'profile', paths, top: positiveInt('--top', values.top, 25) }
  }
  if (positionals.length > 0) throw new UsageError(`unexpected argument "${positionals[0]}"`)

  const quick = values.quick === true
  const plan = quick ? quickPlan() : fullPlan()
  plan.health.connections = positiveInt('--health-connections', values['health-connections'], plan.health.connections)
  plan.ask.connections = positiveInt('--ask-connections', values['ask-connections'], plan.ask.connections)
  plan.login.connections = positiveInt('--login-connections', values['login-connections'], plan.login.connections)
  const duration = positiveNumber('--duration', values.duration)
  if (duration !== undefined) {
    plan.health.measureSec = duration
    plan.login.measureSec = duration
    plan.ask.measureSec = duration
  }
  const ingestMb = positiveNumber('--ingest-mb', values['ingest-mb'])
  if (ingestMb !== undefined) plan.ingest.targetBytes = Math.round(ingestMb * 1_000_000)

  const bcryptCost = positiveInt('--bcrypt-cost', values['bcrypt-cost'], positiveInt('BCRYPT_COST', env.BCRYPT_COST, 12))
  if (bcryptCost < 4 || bcryptCost > 31) throw new UsageError(`--bcrypt-cost must be within 4..31, got ${bcryptCost}`)
  return {
    command: 'run',
    quick,
    jsonFile: values.json,
    // WEB_CONCURRENCY=0 (or unset) means one worker per CPU, as in the API's own configuration.
    workers: positiveInt('--workers', values.workers, Number(env.WEB_CONCURRENCY) > 0 ? Math.floor(Number(env.WEB_CONCURRENCY)) : cpus),
    bcryptCost,
    llmLatencyMs: positiveInt('--llm-latency', values['llm-latency'], 2000),
    redis: values.redis === true,
    redisUrl: values['redis-url'] ?? 'redis://127.0.0.1:6379',
    embedded: values.embedded === true,
    adminDatabaseUrl: values['admin-database-url'] ?? env.BENCH_ADMIN_DATABASE_URL ?? 'postgres://postgres@127.0.0.1:5432/postgres',
    phases: parsePhases(values.only),
    cpuProfDir: values['cpu-prof'],
    failOnGoals: values['fail-on-goals'] === true,
    repoRoot: values.repo,
    extraEnv: parseEnvPairs(values.env ?? []),
    plan
  }
}

import { spawn } from 'node:child_process'
import { randomBytes } from 'node:crypto'
import { existsSync, readFileSync, statSync } from 'node:fs'
import { readdir, stat } from 'node:fs/promises'
import { join } from 'node:path'
import { performance } from 'node:perf_hooks'
import { LAUNCHER, REPO_ROOT, type RunningApi, startApi } from '@documind/harness'

/** The repository root. */
export function repoRoot (): string {
  return REPO_ROOT
}

export { LAUNCHER }
export const MOCK_ENTRY = join('packages', 'groq-mock', 'dist', 'index.js')

async function newestMtime (dir: string): Promise<number> {
  let newest = 0
  let entries
  try {
    entries = await readdir(dir, { withFileTypes: true })
  } catch {
    return 0
  }
  for (const e of entries) {
    const p = join(dir, e.name)
    if (e.isDirectory()) newest = Math.max(newest, await newestMtime(p))
    else if (e.isFile()) newest = Math.max(newest, (await stat(p)).mtimeMs)
  }
  return newest
}

/** Why a build is needed, or undefined when both outputs exist and are newer than their sources. */
export async function buildReason (root: string): Promise<string | undefined> {
  const pairs: Array<[string, string]> = [
    [join(root, LAUNCHER), join(root, 'apps', 'api', 'src')],
    [join(root, MOCK_ENTRY), join(root, 'packages', 'groq-mock', 'src')]
  ]
  for (const [output, sources] of pairs) {
    if (!existsSync(output)) return `${output.slice(root.length + 1)} is missing`
    if (statSync(output).mtimeMs < await newestMtime(sources)) return `${output.slice(root.length + 1)} is older than its sources`
  }
  return undefined
}

function runCommand (cmd: string, args: string[], cwd: string, signal: AbortSignal): Promise<{ code: number | null, output: string }> {
  return new Promise((resolve, reject) => {
    const child = spawn(cmd, args, { cwd, stdio: ['ignore', 'pipe', 'pipe'], signal })
    let output = ''
    child.stdout.on('data', (d: Buffer) => { output += d.toString() })
    child.stderr.on('data', (d: Buffer) => { output += d.toString() })
    child.on('error', reject)
    child.on('close', (code) => resolve({ code, output }))
  })
}

/** Runs `npm run build` at the repository root when the API launcher or groq-mock is missing or stale. */
export async function ensureBuilt (root: string, log: (line: string) => void, signal: AbortSignal): Promise<number | undefined> {
  const reason = await buildReason(root)
  if (reason === undefined) return undefined
  log(`Building (npm run build): ${reason}`)
  const t0 = performance.now()
  const npm = process.platform === 'win32' ? 'npm.cmd' : 'npm'
  const { code, output } = await runCommand(npm, ['run', 'build'], root, signal)
  if (code !== 0) {
    throw new Error(`npm run build failed (exit ${String(code)}):\n${output.split('\n').slice(-40).join('\n')}`)
  }
  const still = await buildReason(root)
  if (still !== undefined) throw new Error(`after npm run build, ${still}: is the API launcher built by "npm run build"?`)
  return performance.now() - t0
}

interface GroqMock {
  url: string
  port: number
  close: () => Promise<void> | void
  stats?: () => unknown
}
interface GroqMockModule { startGroqMock: (opts: { port: number, host: string, latencyMs: number }) => Promise<GroqMock> }

async function startMock (latencyMs: number): Promise<GroqMock> {
  // Imported by name at run time, so the load tester type-checks and builds on its own.
  const specifier = '@documind/groq-mock'
  const mod = await import(specifier) as GroqMockModule
  if (typeof mod.startGroqMock !== 'function') throw new Error('@documind/groq-mock does not export startGroqMock')
  return mod.startGroqMock({ port: 0, host: '127.0.0.1', latencyMs })
}

export interface StackOptions {
  /** false: never build; use what is in dist (it must exist). */
  build: boolean
  workers: number
  llmLatencyMs: number
  readyTimeoutMs: number
  /** Extra environment for the launcher (wins over the inherited one). */
  env: Record<string, string>
  /** Copy the launcher's output (banner, worker logs) to this file at teardown. */
  keepLog?: string | undefined
  log: (line: string) => void
  signal: AbortSignal
}

export interface LocalStack {
  url: string
  mockUrl: string
  workers: number
  database: string
  limitStore: string
  buildMs: number | undefined
  readyMs: number
  pid: number
  /** Where the stack's cluster-wide Prometheus metrics are, or why they are not available. */
  metrics: { url: string, token?: string | undefined } | { unavailable: string }
  alive: () => boolean
  /** groq-mock's own counters, if it exposes them. */
  mockStats: () => unknown
  logTail: (lines?: number) => string
  stop: () => Promise<void>
}

/**
 * Starts groq-mock in this process and the API launcher as a child (see @documind/harness's
 * startApi), and returns a handle whose stop() tears everything down (idempotent). On failure
 * everything started so far is torn down before the error is thrown.
 */
export async function startLocalStack (opts: StackOptions): Promise<LocalStack> {
  const root = repoRoot()
  let buildMs: number | undefined
  if (opts.build) {
    buildMs = await ensureBuilt(root, opts.log, opts.signal)
  } else {
    const reason = await buildReason(root)
    if (reason?.endsWith('missing') === true) throw new Error(`--no-build: ${reason}`)
    if (reason !== undefined) opts.log(`--no-build: ${reason}; using it anyway`)
  }
  const mock = await startMock(opts.llmLatencyMs)
  let api: RunningApi
  try {
    api = await startApi({
      repoRoot: root,
      workers: opts.workers,
      // A test runner's environment must not change how the service behaves.
      inherit: (name) => !name.startsWith('VITEST') && name !== 'NODE_ENV',
      env: () => ({
        GROQ_API_KEY: 'mock',
        GROQ_BASE_URL: mock.url,
        TRUST_PROXY: '127.0.0.1,::1',
        SUPABASE_JWT_SECRET: process.env.SUPABASE_JWT_SECRET ?? randomBytes(32).toString('hex'),
        ...opts.env
      }),
      tmpPrefix: 'documind-loadtest-',
      readyTimeoutMs: opts.readyTimeoutMs,
      keepLog: opts.keepLog,
      log: opts.log,
      signal: opts.signal
    })
  } catch (err) {
    await mock.close()
    throw err
  }
  const env = api.env
  return {
    metrics: metricsEndpoint(api.url, api.dataDir, env),
    url: api.url,
    mockUrl: mock.url,
    workers: opts.workers,
    database: env.DATABASE_URL !== undefined && env.DATABASE_URL !== '' ? 'DATABASE_URL (given)' : 'embedded Postgres (started by the launcher)',
    limitStore: env.REDIS_URL !== undefined && env.REDIS_URL !== '' ? 'Redis (REDIS_URL)' : 'Postgres',
    buildMs,
    readyMs: api.readyMs,
    pid: api.pid,
    alive: api.alive,
    mockStats: () => mock.stats?.(),
    logTail: api.logTail,
    stop: async () => {
      await api.stop()
      await mock.close()
    }
  }
}

/**
 * The launcher serves /metrics on the API port with a bearer token: METRICS_TOKEN when given,
 * otherwise the one it generated in DATA_DIR/metrics-token. With METRICS_PORT, the separate
 * listener needs none.
 */
function metricsEndpoint (url: string, dataDir: string, env: NodeJS.ProcessEnv): LocalStack['metrics'] {
  const port = env.METRICS_PORT
  if (port !== undefined && port !== '') return { url: `http://${env.METRICS_HOST === undefined || env.METRICS_HOST === '' ? '127.0.0.1' : env.METRICS_HOST}:${port}/metrics` }
  const given = env.METRICS_TOKEN
  if (given !== undefined && given !== '') return { url: `${url}/metrics`, token: given }
  try {
    return { url: `${url}/metrics`, token: readFileSync(join(dataDir, 'metrics-token'), 'utf8').trim() }
  } catch (err) {
    return { unavailable: `the launcher left no ${join(dataDir, 'metrics-token')}: ${(err as NodeJS.ErrnoException).code ?? String(err)}` }
  }
}

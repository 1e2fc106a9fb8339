import { type ChildProcess, spawn } from 'node:child_process'
import { randomBytes } from 'node:crypto'
import { closeSync, existsSync, openSync, readFileSync, statSync } from 'node:fs'
import { chmod, copyFile, mkdir, mkdtemp, readdir, rm, stat } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { dirname, join, resolve } from 'node:path'
import { performance } from 'node:perf_hooks'
import { fileURLToPath } from 'node:url'
import { freePort } from '@documind/harness'

/** The repository root: this file lives in packages/loadtest/{src,dist}/. */
export function repoRoot (): string {
  return resolve(fileURLToPath(new URL('.', import.meta.url)), '..', '..', '..')
}

export const LAUNCHER = join('apps', 'api', 'dist', 'cli', 'start.js')
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

function stopStrayPm2 (pm2Home: string): void {
  let pid: number
  try {
    pid = Number(readFileSync(join(pm2Home, 'pm2.pid'), 'utf8').trim())
  } catch {
    return
  }
  if (!Number.isInteger(pid) || pid <= 1) return
  try {
    // Only if that pid is still the PM2 daemon of this home (pids get reused).
    // Its title is truncated, its environment is not.
    const environ = readFileSync(`/proc/${pid}/environ`, 'utf8').split('\0')
    if (!environ.includes(`PM2_HOME=${pm2Home}`)) return
  } catch {
    if (process.platform === 'linux') return
  }
  try { process.kill(pid, 'SIGTERM') } catch { /* gone */ }
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
  alive: () => boolean
  /** groq-mock's own counters, if it exposes them. */
  mockStats: () => unknown
  logTail: (lines?: number) => string
  stop: () => Promise<void>
}

const LAUNCHER_STOP_GRACE_MS = 30_000

/**
 * Starts groq-mock in this process and the API launcher as a child, waits for GET /health/ready,
 * and returns a handle whose stop() tears everything down (idempotent). On failure everything
 * started so far is torn down before the error is thrown.
 */
export async function startLocalStack (opts: StackOptions): Promise<LocalStack> {
  const root = repoRoot()
  const cleanups: Array<() => Promise<void>> = []
  const cleanup = async (): Promise<void> => {
    while (cleanups.length > 0) {
      const fn = cleanups.pop()!
      try { await fn() } catch { /* keep tearing down */ }
    }
  }
  try {
    let buildMs: number | undefined
    if (opts.build) {
      buildMs = await ensureBuilt(root, opts.log, opts.signal)
    } else {
      const reason = await buildReason(root)
      if (reason?.endsWith('missing') === true) throw new Error(`--no-build: ${reason}`)
      if (reason !== undefined) opts.log(`--no-build: ${reason}; using it anyway`)
    }
    const tmp = await mkdtemp(join(tmpdir(), 'documind-loadtest-'))
    cleanups.push(() => rm(tmp, { recursive: true, force: true, maxRetries: 3 }))
    // mkdtemp makes it 0700; when we run as root the embedded Postgres runs as "postgres" and
    // must be able to traverse into DATA_DIR.
    await chmod(tmp, 0o711)

    const mock = await startMock(opts.llmLatencyMs)
    cleanups.push(async () => { await mock.close() })

    const port = await freePort()
    const url = `http://127.0.0.1:${port}`
    const logFile = join(tmp, 'launcher.log')
    const fd = openSync(logFile, 'a')
    const keepLog = opts.keepLog
    if (keepLog !== undefined) {
      // Registered before the temp dir's removal runs (cleanups run in reverse order).
      cleanups.push(async () => {
        await mkdir(dirname(resolve(keepLog)), { recursive: true })
        await copyFile(logFile, resolve(keepLog))
      })
    }
    const inherited = { ...process.env }
    // A test runner's environment must not change how the service behaves.
    for (const key of Object.keys(inherited)) if (key.startsWith('VITEST') || key === 'NODE_ENV') delete inherited[key]
    const env: NodeJS.ProcessEnv = {
      ...inherited,
      PORT: String(port),
      HOST: '127.0.0.1',
      DATA_DIR: join(tmp, 'data'),
      WEB_CONCURRENCY: String(opts.workers),
      GROQ_API_KEY: 'mock',
      GROQ_BASE_URL: mock.url,
      TRUST_PROXY: '127.0.0.1,::1',
      SUPABASE_JWT_SECRET: process.env.SUPABASE_JWT_SECRET ?? randomBytes(32).toString('hex'),
      ...opts.env
    }
    const child: ChildProcess = spawn(process.execPath, [LAUNCHER], {
      cwd: root,
      env,
      // Own process group: a Ctrl-C in the terminal reaches only the load tester, which then
      // stops the launcher in order (the launcher stops its workers and database).
      detached: true,
      stdio: ['ignore', fd, fd]
    })
    closeSync(fd)
    let exited: { code: number | null, signal: NodeJS.Signals | null } | undefined
    const exitPromise = new Promise<void>((resolve) => {
      child.on('exit', (code, signal) => { exited = { code, signal }; resolve() })
      child.on('error', () => { exited ??= { code: null, signal: null }; resolve() })
    })
    const pid = child.pid ?? 0
    const killGroup = (): void => {
      try { process.kill(-pid, 'SIGKILL') } catch { /* already gone */ }
    }
    // Last resort if this process exits without a proper teardown.
    const onExit = (): void => { if (exited === undefined) killGroup() }
    process.on('exit', onExit)
    cleanups.push(async () => {
      process.off('exit', onExit)
      if (exited === undefined && pid > 0) {
        try { process.kill(pid, 'SIGTERM') } catch { /* gone */ }
        const timer = setTimeout(killGroup, LAUNCHER_STOP_GRACE_MS)
        await exitPromise
        clearTimeout(timer)
      }
      // Anything the launcher left in its group gets a few seconds, then SIGKILL.
      const groupAlive = (): boolean => {
        try { process.kill(-pid, 0); return true } catch { return false }
      }
      for (let i = 0; i < 25 && groupAlive(); i++) await new Promise((resolve) => setTimeout(resolve, 200))
      if (groupAlive()) killGroup()
      // A PM2 daemon started under our DATA_DIR (PM2_HOME = DATA_DIR/pm2) runs in its own session;
      // if the launcher left one behind, stop it before its home is deleted.
      stopStrayPm2(join(tmp, 'data', 'pm2'))
    })

    const logTail = (lines = 30): string => {
      try {
        return readFileSync(logFile, 'utf8').split('\n').slice(-lines).join('\n')
      } catch {
        return ''
      }
    }

    const t0 = performance.now()
    opts.log(`Starting the API launcher (node ${LAUNCHER}, ${opts.workers} workers) on ${url}`)
    for (;;) {
      if (opts.signal.aborted) throw new Error('aborted')
      if (exited !== undefined) {
        throw new Error(`the API launcher exited during start-up (code ${String(exited.code)}, signal ${String(exited.signal)}). Its output:\n${logTail(40)}`)
      }
      if (performance.now() - t0 > opts.readyTimeoutMs) {
        throw new Error(`GET /health/ready did not answer 200 within ${Math.round(opts.readyTimeoutMs / 1000)} s. Launcher output:\n${logTail(40)}`)
      }
      try {
        const res = await fetch(`${url}/health/ready`, { signal: AbortSignal.timeout(2000) })
        await res.arrayBuffer()
        if (res.status === 200) break
      } catch { /* not listening yet */ }
      await new Promise((resolve) => setTimeout(resolve, 300))
    }
    const readyMs = performance.now() - t0
    const stop = async (): Promise<void> => { await cleanup() }
    return {
      url,
      mockUrl: mock.url,
      workers: opts.workers,
      database: env.DATABASE_URL !== undefined && env.DATABASE_URL !== '' ? 'DATABASE_URL (given)' : 'embedded Postgres (started by the launcher)',
      limitStore: env.REDIS_URL !== undefined && env.REDIS_URL !== '' ? 'Redis (REDIS_URL)' : 'Postgres',
      buildMs,
      readyMs,
      pid,
      alive: () => exited === undefined,
      mockStats: () => mock.stats?.(),
      logTail,
      stop
    }
  } catch (err) {
    await cleanup()
    throw err
  }
}

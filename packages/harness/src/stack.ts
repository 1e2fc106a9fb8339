// The API started exactly as in production: the real launcher (node apps/api/dist/cli/start.js) runs
// it under PM2 in cluster mode, here on a free loopback port in a throwaway DATA_DIR.
import { type ChildProcess, spawn, type SpawnOptions } from 'node:child_process'
import { closeSync, existsSync, openSync, readFileSync } from 'node:fs'
import { chmod, copyFile, mkdir, mkdtemp, rm } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { dirname, join, resolve } from 'node:path'
import { performance } from 'node:perf_hooks'
import { fileURLToPath } from 'node:url'
import { freePort } from './ports.js'

/** This checkout's root: this file lives in packages/harness/{src,dist}/. */
export const REPO_ROOT = resolve(fileURLToPath(new URL('.', import.meta.url)), '..', '..', '..')

/** The launcher, relative to a checkout's root. */
export const LAUNCHER = join('apps', 'api', 'dist', 'cli', 'start.js')

const STOP_GRACE_MS = 30_000

export interface ApiOptions {
  /** Checkout whose launcher is started (default: this one). */
  repoRoot?: string
  workers: number
  /** The service's environment for a given port and DATA_DIR; wins over the inherited one. */
  env: (where: { port: number, dataDir: string }) => Record<string, string>
  /** Which variables of this process's environment the launcher inherits. */
  inherit: (name: string) => boolean
  /** Prefix of the temporary directory (holds DATA_DIR and the launcher's output). */
  tmpPrefix: string
  readyTimeoutMs: number
  /** Copy the launcher's output (banner, worker logs) to this file at stop. */
  keepLog?: string | undefined
  log?: (line: string) => void
  signal?: AbortSignal
  /** How the launcher is spawned (e.g. through a registry of children); node's spawn by default. */
  spawn?: (command: string, args: string[], options: SpawnOptions) => ChildProcess
}

export interface RunningApi {
  url: string
  port: number
  dataDir: string
  /** PM2_HOME of the launcher's daemon. */
  pm2Home: string
  /** The launcher's environment (the inherited part included). */
  env: NodeJS.ProcessEnv
  pid: number
  readyMs: number
  alive: () => boolean
  /** The last lines of the launcher's output. */
  logTail: (lines?: number) => string
  /** Stops the launcher (SIGTERM, its process group after a grace period) and removes DATA_DIR; idempotent. */
  stop: () => Promise<void>
}

/** Ends the PM2 daemon of `pm2Home` if one was left behind (it runs in its own session). */
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

/**
 * Starts the launcher and waits until GET /health/ready answers 200. On failure everything started
 * so far is torn down before the error is thrown.
 */
export async function startApi (opts: ApiOptions): Promise<RunningApi> {
  const root = opts.repoRoot ?? REPO_ROOT
  const log = opts.log ?? (() => {})
  if (!existsSync(join(root, LAUNCHER))) throw new Error(`${join(root, LAUNCHER)} is missing: run npm run build first`)
  const cleanups: Array<() => Promise<void>> = []
  const cleanup = async (): Promise<void> => {
    while (cleanups.length > 0) {
      const fn = cleanups.pop()!
      try { await fn() } catch { /* keep tearing down */ }
    }
  }
  try {
    const tmp = await mkdtemp(join(tmpdir(), opts.tmpPrefix))
    cleanups.push(() => rm(tmp, { recursive: true, force: true, maxRetries: 3 }))
    // mkdtemp makes it 0700; when we run as root the embedded Postgres runs as "postgres" and
    // must be able to traverse into DATA_DIR.
    await chmod(tmp, 0o711)
    const dataDir = join(tmp, 'data')
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
    const env: NodeJS.ProcessEnv = {}
    for (const [key, value] of Object.entries(process.env)) if (opts.inherit(key)) env[key] = value
    Object.assign(env, { PORT: String(port), HOST: '127.0.0.1', DATA_DIR: dataDir, WEB_CONCURRENCY: String(opts.workers) }, opts.env({ port, dataDir }))
    const child = (opts.spawn ?? spawn)(process.execPath, [LAUNCHER], {
      cwd: root,
      env,
      // Own process group: a Ctrl-C in the terminal reaches only this process, which then stops
      // the launcher in order (the launcher stops its workers and database).
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
        const timer = setTimeout(killGroup, STOP_GRACE_MS)
        await exitPromise
        clearTimeout(timer)
      }
      // Anything the launcher left in its group gets a few seconds, then SIGKILL.
      const groupAlive = (): boolean => {
        try { process.kill(-pid, 0); return true } catch { return false }
      }
      for (let i = 0; i < 25 && groupAlive(); i++) await new Promise((resolve) => setTimeout(resolve, 200))
      if (groupAlive()) killGroup()
      // A PM2 daemon started under our DATA_DIR runs in its own session; if the launcher left one
      // behind, stop it before its home is deleted.
      stopStrayPm2(join(dataDir, 'pm2'))
    })

    const logTail = (lines = 30): string => {
      try {
        return readFileSync(logFile, 'utf8').split('\n').slice(-lines).join('\n')
      } catch {
        return ''
      }
    }

    const t0 = performance.now()
    log(`Starting the API launcher (node ${LAUNCHER}, ${opts.workers} workers) on ${url}`)
    for (;;) {
      if (opts.signal?.aborted === true) throw new Error('aborted')
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
    let stopped: Promise<void> | undefined
    return {
      url,
      port,
      dataDir,
      pm2Home: join(dataDir, 'pm2'),
      env,
      pid,
      readyMs: performance.now() - t0,
      alive: () => exited === undefined,
      logTail,
      stop: async () => { await (stopped ??= cleanup()) }
    }
  } catch (err) {
    await cleanup()
    throw err
  }
}

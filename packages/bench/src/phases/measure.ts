// Measurement plumbing shared by the phases: the run's context, CPU and load-average accounting
// around a load, and the figures of a load. Every load runs in its own process (load.ts); this
// process only sets things up, hosts groq-mock, and reads /proc.
import { loadavg } from 'node:os'
import type { GroqMock } from '@documind/groq-mock'
import type { BenchUser } from '../api.js'
import type { BenchOptions } from '../args.js'
import type { LoadResult, LoadSpec } from '../load-types.js'
import { runLoad } from '../load.js'
import type { LargePdf } from '../pdf.js'
import { cpuSeconds, type Stack, workerProcesses } from '../stack.js'
import { round } from '../stats.js'
import type { LoadAverages, LoadFigures } from '../types.js'

export interface Context {
  options: BenchOptions
  stack: Stack
  mock: GroqMock
  /** Temporary directory of this run (PDF files). */
  workDir: string
  /** Compares in flight per worker: the libuv pool size the workers run with. */
  uvThreadpoolSize: number
  log: (message: string) => void
  warnings: string[]
  /** Users signed up so far (reused across phases), and which of them uploaded the /ask document. */
  users: BenchUser[]
  withDocument: Set<string>
  askPdf: Promise<Buffer>
  largePdf: Promise<LargePdf>
  /** Another stack on the same database and mock, with this extra environment (stopped by the caller). */
  startVariant: (name: string, env: Record<string, string>) => Promise<Stack>
  /** The PostgreSQL backends serving the bench database (undefined with --embedded). */
  postgresPids?: () => Promise<number[]>
}

export const sleep = async (ms: number): Promise<void> => { await new Promise((resolve) => setTimeout(resolve, ms)) }

export function loadAverages (): number[] {
  return loadavg().map((v) => round(v, 2))
}

export async function withLoadAverages<T extends object> (fn: () => Promise<T>): Promise<T & LoadAverages> {
  const start = loadAverages()
  const result = await fn()
  return { ...result, load_avg_start: start, load_avg_end: loadAverages() }
}

/** CPU seconds (user + system, every thread) used by these processes so far. */
export async function processCpu (pids: readonly number[]): Promise<number> {
  return (await Promise.all(pids.map(async (pid) => await cpuSeconds(pid)))).filter(Number.isFinite).reduce((a, b) => a + b, 0)
}

export async function apiWorkerPids (ctx: Context): Promise<number[]> {
  return (await workerProcesses(ctx.stack.pm2Home)).map((w) => w.pid)
}

export interface MeasuredLoad {
  result: LoadResult
  /** CPU the server processes (`pids`) used during the run, per 2xx response, in ms. */
  cpuMsPerOk: number
  /** Their CPU use during the run, in cores (1 = one core busy all the time). */
  cores: number
  /**
   * CPU per 2xx response in ms of every party: `server`, each extra group given (e.g. `postgres`),
   * `bench` (this process: groq-mock) and `load_generator`.
   */
  breakdown: Record<string, number>
}

/** A fixed set of processes, or a function listing them (called before and after the run). */
export type PidSource = readonly number[] | (() => Promise<number[]>)

export async function cpuByPid (source: PidSource): Promise<Map<number, number>> {
  const pids = typeof source === 'function' ? await source() : source
  return new Map(await Promise.all(pids.map(async (pid) => [pid, await cpuSeconds(pid)] as [number, number])))
}

/** CPU seconds between two readings; a process that appeared in between (a new pool connection) counts from 0. */
export function cpuDelta (before: Map<number, number>, after: Map<number, number>): number {
  let total = 0
  for (const [pid, seconds] of after) {
    if (Number.isFinite(seconds)) total += seconds - (before.get(pid) ?? 0)
  }
  return total
}

/** Runs a load and accounts the CPU the server processes (`pids`) and the other `groups` spent on it. */
export async function measuredLoad (spec: LoadSpec, pids: PidSource, groups: Record<string, PidSource> = {}): Promise<MeasuredLoad> {
  const all: Record<string, PidSource> = { server: pids, ...groups }
  const names = Object.keys(all)
  const before = await Promise.all(names.map(async (name) => await cpuByPid(all[name]!)))
  const ownBefore = process.cpuUsage()
  const start = performance.now()
  const result = await runLoad(spec)
  const wall = (performance.now() - start) / 1000
  const own = process.cpuUsage(ownBefore)
  const after = await Promise.all(names.map(async (name) => await cpuByPid(all[name]!)))
  const perOk = (seconds: number): number => round(result.ok > 0 ? (seconds * 1000) / result.ok : Number.NaN, 4)
  const breakdown: Record<string, number> = {}
  names.forEach((name, i) => { breakdown[name] = perOk(cpuDelta(before[i]!, after[i]!)) })
  breakdown.bench = perOk((own.user + own.system) / 1e6)
  breakdown.load_generator = perOk(result.generator_cpu_s)
  const serverCpu = cpuDelta(before[0]!, after[0]!)
  return { result, cpuMsPerOk: perOk(serverCpu), cores: round(serverCpu / wall, 3), breakdown }
}

export function figures (result: LoadResult, measured?: MeasuredLoad): LoadFigures {
  return {
    ...(measured === undefined ? {} : { cpu_ms_per_req: measured.cpuMsPerOk, server_cores: measured.cores, cpu_ms_per_req_by_process: measured.breakdown }),
    rps: result.rps,
    responses: result.responses,
    ok: result.ok,
    errors: result.errors,
    timeouts: result.timeouts,
    statuses: result.statuses,
    latency: result.latency,
    latency_after_first: result.latency_after_first,
    timeline: result.timeline
  }
}

/**
 * Waits until the API workers are idle (together under 10 % of one core over 500 ms): work a load
 * generator abandoned at the end of a run (logins whose bcrypt is running, answers being written)
 * must not be billed to the next measurement. Gives up after `maxMs`, with a warning.
 */
export async function quiesce (ctx: Context, what: string, maxMs = 60_000): Promise<void> {
  const pids = await apiWorkerPids(ctx)
  const total = async (): Promise<number> => await processCpu(pids)
  const deadline = Date.now() + maxMs
  let before = await total()
  while (Date.now() < deadline) {
    await sleep(500)
    const now = await total()
    if (!Number.isFinite(now) || now - before < 0.05) return
    before = now
  }
  ctx.warnings.push(`${what}: the workers were still busy ${maxMs / 1000} s later`)
}

export function checkLoad (ctx: Context, what: string, result: LoadResult): void {
  const bad = result.responses - result.ok
  if (bad > 0 || result.errors > 0 || result.timeouts > 0) {
    ctx.warnings.push(`${what}: ${bad} non-2xx (${JSON.stringify(result.statuses)}), ${result.errors} errors, ${result.timeouts} timeouts`)
  }
}

import type { ApiClient } from '../api.js'
import type { LoadTestConfig } from '../config.js'
import { LIMITS } from '../limits.js'
import type { ScenarioName } from '../model.js'
import type { ScenarioRun } from '../results.js'
import { type Op, type Progress, runOps, type RunOutcome } from '../runner.js'
import type { AddressBudget, UserPool, VirtualUser } from '../users.js'

export interface ScenarioContext {
  config: LoadTestConfig
  baseUrl: string
  api: ApiClient
  pool: UserPool
  budget: AddressBudget
  /** Per-user X-Forwarded-For addresses are sent and honoured by the target. */
  perUser: boolean
  /** Testing a deployment given with --target (not the local stack). */
  remote: boolean
  runId: string
  signal: AbortSignal
  log: (line: string) => void
  onProgress: (scenario: ScenarioName, p: Progress) => void
  /** The PDF of --upload-size, generated once per run. */
  uploadPdf: () => Promise<Buffer>
  /** Called right before and after the measured requests (the server-side scrapes bracket them). */
  phase?: { start: (name: ScenarioName) => Promise<void>, end: (name: ScenarioName) => Promise<void> }
}

export interface ScenarioDefinition {
  name: ScenarioName
  title: string
  description: string
  run: (ctx: ScenarioContext) => Promise<ScenarioRun>
}

export interface Phase {
  ops: Op[]
  connections: number
}

export async function measured (
  ctx: ScenarioContext,
  name: ScenarioName,
  phase: Phase | { next: () => Op, durationMs: number, connections: number, rate?: number }
): Promise<RunOutcome> {
  await ctx.phase?.start(name)
  try {
    return await runOps({
      baseUrl: ctx.baseUrl,
      connections: phase.connections,
      ...('ops' in phase
        ? { ops: phase.ops }
        : { next: phase.next, durationMs: phase.durationMs, ...(phase.rate === undefined ? {} : { overallRate: phase.rate }) }),
      timeoutS: ctx.config.timeoutS,
      signal: ctx.signal,
      onProgress: (p) => ctx.onProgress(name, p)
    })
  } finally {
    await ctx.phase?.end(name)
  }
}

export function emptyOutcome (): RunOutcome {
  return { samples: [], startedAt: new Date(), durationMs: 0, timeouts: 0, unfinished: 0 }
}

export const modeNote = (ctx: ScenarioContext): string => ctx.perUser
  ? 'per-user XFF: every virtual user sends its own X-Forwarded-For address'
  : 'single address: every request comes from the load generator\'s own address'

/** Users that can act with a token (single-address mode: the few that exist). */
export async function singleAddressUsers (ctx: ScenarioContext): Promise<VirtualUser[]> {
  const known = ctx.pool.users.filter((u) => u.address === undefined)
  return ctx.pool.ensureTokens(known)
}

export const QUERY_BUDGET = LIMITS.queriesPerDay - 5
export const ENDPOINT_MARGIN = 5

export function meta (def: ScenarioDefinition): { name: ScenarioName, title: string, description: string } {
  return { name: def.name, title: def.title, description: def.description }
}

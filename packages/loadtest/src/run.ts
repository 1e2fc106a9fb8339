import { randomBytes } from 'node:crypto'
import { readFileSync } from 'node:fs'
import { arch, cpus, freemem, hostname, loadavg, platform, totalmem } from 'node:os'
import { performance } from 'node:perf_hooks'
import { makeReportPdf, mapLimit } from '@documind/harness'
import { AddressAllocator } from './addresses.js'
import { ApiClient } from './api.js'
import { buildBreakdown, type ServerFigures } from './breakdown.js'
import type { LoadTestConfig } from './config.js'
import { type Check, check, type Sample, SCENARIO_NAMES, type ScenarioName, type ScenarioResult } from './model.js'
import { DEFINITIONS, type MachineInfo, type Report, type StackInfo, type XffInfo } from './report/types.js'
import { buildScenarioResult, type ScenarioRun } from './results.js'
import type { Progress } from './runner.js'
import { SCENARIOS, type ScenarioContext } from './scenarios/index.js'
import { type PhaseScrapes, ServerMetrics } from './server-metrics.js'
import { type LocalStack, startLocalStack } from './stack.js'
import { judgeRun } from './summary.js'
import { LIMITS } from './limits.js'
import { AddressBudget, UserPool } from './users.js'

export interface RunHooks {
  /** Human-readable lines (mode, setup steps, per-scenario results). */
  log: (line: string) => void
  /** Live progress of the running scenario. */
  progress?: (scenario: ScenarioName, p: Progress) => void
  /** Called when a scenario finished, with its result. */
  scenarioDone?: (result: ScenarioResult) => void
  /** Called before a scenario starts (setup included). */
  scenarioStart?: (name: ScenarioName, title: string) => void
  signal?: AbortSignal
}

export function toolVersion (): string {
  try {
    const pkg = JSON.parse(readFileSync(new URL('../package.json', import.meta.url), 'utf8')) as { version?: string }
    return pkg.version ?? '0.0.0'
  } catch {
    return '0.0.0'
  }
}

export function machineInfo (): MachineInfo {
  const cpu = cpus()
  return {
    cores: cpu.length,
    cpuModel: cpu[0]?.model ?? 'unknown',
    memoryBytes: totalmem(),
    freeMemoryBytes: freemem(),
    platform: platform(),
    arch: arch(),
    node: process.version,
    loadavg: loadavg().map((v) => Math.round(v * 100) / 100),
    hostname: hostname()
  }
}

/**
 * Does X-Forwarded-For pick the rate-limit bucket? Sends limit + 1 requests, each from a different
 * forwarded address, to an unauthenticated route with the default per-address limit (50 per hour).
 * Any 429 means they all landed in one bucket. A route nobody else in the run uses is chosen so a
 * negative answer costs nothing the scenarios need.
 */
export async function probeXff (api: ApiClient, addresses: AddressAllocator, budget: AddressBudget): Promise<{ honoured: boolean | null, detail: string }> {
  for (const path of ['/tts/languages', '/stats']) {
    const first = await api.call('GET', path, { address: addresses.next() })
    if (first.status === 404) continue
    budget.use(undefined, path)
    if (first.status === 429) return { honoured: false, detail: `GET ${path} from a never-used forwarded address was refused with 429` }
    const n = LIMITS.endpoint.max
    const answers = await mapLimit(Array.from({ length: n }, () => addresses.next()), 10, async (address) => {
      budget.use(undefined, path)
      return (await api.call('GET', path, { address })).status
    })
    const limited = answers.filter((s) => s === 429).length
    if (limited > 0) {
      return { honoured: false, detail: `${limited} of ${n + 1} requests to GET ${path}, each from a different forwarded address, were refused with 429 (limit ${n} per hour per address)` }
    }
    return { honoured: true, detail: `${n + 1} requests to GET ${path} (limit ${n} per hour per address), each from a different forwarded address: none refused` }
  }
  return { honoured: null, detail: 'no probe route answered (GET /tts/languages and /stats are 404); assuming X-Forwarded-For is honoured as requested' }
}

function failedScenario (name: ScenarioName, message: string, notes: string[]): ScenarioRun {
  const def = SCENARIOS[name]
  return buildScenarioResult({
    name,
    title: def.title,
    description: def.description,
    setupMs: 0,
    checks: [check(`${name}: scenario ran`, false, message, 'expectation', name)],
    notes,
    settings: {}
  }, { samples: [], startedAt: new Date(), durationMs: 0, timeouts: 0, unfinished: 0 })
}

/** Runs the configured scenarios against the target or a local stack and returns the full report. */
export async function runLoadTest (config: LoadTestConfig, hooks: RunHooks): Promise<Report> {
  const startedAt = new Date()
  const t0 = performance.now()
  const signal = hooks.signal ?? new AbortController().signal
  const log = hooks.log
  const runId = `${Date.now().toString(36)}${randomBytes(3).toString('hex')}`
  const notes: string[] = []
  const globalChecks: Check[] = []
  const results: ScenarioResult[] = []
  const allSamples: Sample[] = []
  let stack: LocalStack | undefined
  let stackInfo: StackInfo | null = null
  let error: string | null = null
  let baseUrl = config.target ?? ''
  let xff: XffInfo = {
    requested: config.xff,
    mode: config.xff ? 'per-user XFF' : 'single address',
    honoured: null,
    detail: config.xff ? 'not probed' : '--no-xff: no X-Forwarded-For header is sent'
  }
  const mode: Report['mode'] = config.target === undefined ? 'local' : 'target'
  let modeDescription = ''
  let server = new ServerMetrics(undefined)

  try {
    if (config.target === undefined) {
      modeDescription = 'local stack (could not be started)'
      log('Mode: LOCAL STACK (no --target): building if needed, starting groq-mock and the API launcher')
      stack = await startLocalStack({
        build: config.build,
        workers: config.workers,
        llmLatencyMs: config.llmLatencyMs,
        readyTimeoutMs: config.readyTimeoutMs,
        env: config.stackEnv,
        keepLog: config.launcherLog,
        log,
        signal
      })
      baseUrl = stack.url
      stackInfo = {
        url: stack.url,
        workers: stack.workers,
        database: stack.database,
        limitStore: stack.limitStore,
        llmLatencyMs: config.llmLatencyMs,
        buildMs: stack.buildMs === undefined ? null : Math.round(stack.buildMs),
        readyMs: Math.round(stack.readyMs)
      }
      modeDescription = `local stack at ${stack.url}: ${stack.workers} PM2 workers, ${stack.database}, limit store ${stack.limitStore}, ` +
        `groq-mock (${config.llmLatencyMs} ms latency) at ${stack.mockUrl}`
      log(`Local stack ready in ${(stack.readyMs / 1000).toFixed(1)} s: ${modeDescription}`)
      server = 'unavailable' in stack.metrics ? new ServerMetrics(undefined, stack.metrics.unavailable) : new ServerMetrics(stack.metrics)
      const partial = await server.waitForWorkers(stack.workers, 30_000)
      if (partial !== undefined && server.unavailable === undefined) notes.push(`server metrics: ${partial}`)
    } else {
      modeDescription = `remote target ${config.target} (nothing started by the load tester)`
      log(`Mode: TARGET ${config.target} (nothing is started; the deployment must be running)`)
      server = new ServerMetrics({ url: config.metricsUrl ?? `${config.target}/metrics`, token: config.metricsToken })
    }

    const api = new ApiClient(baseUrl, config.timeoutS * 1000)
    const addresses = new AddressAllocator()
    const budget = new AddressBudget()

    let perUser = config.xff
    if (config.xff) {
      const probe = await probeXff(api, addresses, budget)
      xff = { ...xff, honoured: probe.honoured, detail: probe.detail }
      if (probe.honoured === false) {
        perUser = false
        xff.mode = 'single address'
        const why = 'the target does not take the client address from X-Forwarded-For: ' + probe.detail
        if (mode === 'local') {
          globalChecks.push(check('stack: X-Forwarded-For honoured (TRUST_PROXY=127.0.0.1,::1)', false, why, 'stack'))
        } else {
          notes.push(`${why}. Falling back to single-address mode: every request shares this machine's rate-limit buckets, ` +
            'so signups beyond 3 per hour and logins beyond 5 per minute are refused, and exact limits can only be verified ' +
            'on the first run of the hour. Add this machine\'s address to the deployment\'s TRUST_PROXY for per-user XFF.')
        }
      }
    }
    log(`Client addresses: ${xff.mode}${xff.honoured === null ? '' : ` (X-Forwarded-For ${xff.honoured ? 'honoured' : 'ignored'}: ${xff.detail})`}`)

    const pool = new UserPool({ api, addresses, perUser, runId, budget, log })
    if (config.loginEmail !== undefined && config.loginPassword !== undefined) {
      pool.adopt({ email: config.loginEmail, password: config.loginPassword, address: undefined, docs: 0, queries: 0, source: 'premade', label: 'premade' })
    }
    let pdfPromise: Promise<Buffer> | undefined
    const ctx: ScenarioContext = {
      config,
      baseUrl,
      api,
      pool,
      budget,
      perUser,
      remote: mode === 'target',
      runId,
      signal,
      log,
      onProgress: (name, p) => hooks.progress?.(name, p),
      uploadPdf: () => (pdfPromise ??= makeReportPdf(7, config.upload.sizeBytes))
    }
    // The server's figures are read around the measured requests only: the scenarios' setup
    // (signing users up, first uploads) would otherwise count as theirs.
    let scrapes: PhaseScrapes | undefined
    let measuredPhase = false
    ctx.phase = {
      start: async () => { measuredPhase = true; await server.start() },
      end: async () => { scrapes = await server.end() }
    }
    let unavailableLogged = false

    for (const name of SCENARIO_NAMES) {
      if (!config.scenarios.includes(name)) continue
      if (signal.aborted) break
      const def = SCENARIOS[name]
      hooks.scenarioStart?.(name, def.title)
      let run: ScenarioRun
      try {
        run = await def.run(ctx)
      } catch (err) {
        if (signal.aborted) break
        const message = err instanceof Error ? err.message : String(err)
        run = failedScenario(name, `could not run: ${message}`, [])
      }
      if (signal.aborted) {
        notes.push(`${name}: interrupted, its partial figures are not reported`)
        break
      }
      run.result.server = serverFigures(run, measuredPhase ? scrapes : undefined, measuredPhase ? server.unavailable : 'no measured requests', mode)
      if (run.result.server.available) {
        run.result.checks.push(countCheck(name, run.result.server.countCheck, mode))
      } else if (server.unavailable !== undefined && !unavailableLogged) {
        unavailableLogged = true
        log(`Server metrics unavailable: ${server.unavailable}; the report has no server-side breakdown`)
        notes.push(`server metrics unavailable: ${server.unavailable}`)
      }
      scrapes = undefined
      measuredPhase = false
      results.push(run.result)
      allSamples.push(...run.samples)
      hooks.scenarioDone?.(run.result)
    }
    for (const n of pool.notes) notes.push(n)

    if (stack !== undefined && !signal.aborted) {
      let ready = false
      try {
        const res = await fetch(`${stack.url}/health/ready`, { signal: AbortSignal.timeout(5000) })
        await res.arrayBuffer()
        ready = res.status === 200
      } catch { ready = false }
      globalChecks.push(check('stack: API launcher alive and ready after the run', stack.alive() && ready,
        stack.alive() ? (ready ? 'GET /health/ready answered 200' : 'GET /health/ready did not answer 200') : `the launcher exited:\n${stack.logTail(20)}`,
        'stack'))
      stackInfo = { ...stackInfo!, mockStats: stack.mockStats() }
    }
  } catch (err) {
    error = err instanceof Error ? err.message : String(err)
    if (!signal.aborted) globalChecks.push(check('load test ran', false, error, 'stack'))
  } finally {
    if (stack !== undefined) {
      log('Stopping the local stack...')
      await stack.stop()
      log('Local stack stopped')
    }
  }

  const { overall, scenarios: byName, summary, checks } = judgeRun(config, results, allSamples, globalChecks, notes, signal.aborted)
  const aborted = signal.aborted
  const ok = !aborted && error === null && results.length > 0 && checks.every((c) => c.ok)
  const finishedAt = new Date()
  return {
    tool: 'documind-loadtest',
    version: toolVersion(),
    ok,
    exitCode: aborted ? 130 : ok ? 0 : 1,
    mode,
    modeDescription,
    target: baseUrl,
    xff,
    startedAt: startedAt.toISOString(),
    finishedAt: finishedAt.toISOString(),
    wallMs: Math.round(performance.now() - t0),
    machine: machineInfo(),
    stack: stackInfo,
    settings: settingsOf(config),
    scenarios: byName,
    overall,
    summary,
    checks,
    notes,
    definitions: DEFINITIONS,
    aborted,
    error
  }
}

function serverFigures (run: ScenarioRun, scrapes: PhaseScrapes | undefined, unavailable: string | undefined, mode: Report['mode']): ServerFigures {
  if (scrapes !== undefined) return buildBreakdown(run.result.name, scrapes, run.samples, run.result.unfinished)
  return { available: false, reason: unavailable ?? (mode === 'local' ? 'not scraped' : 'no metrics endpoint') }
}

/**
 * On the local stack nothing else talks to the API, so a difference is a miscount. A remote
 * deployment may serve other clients during the run: there it is a warning.
 */
function countCheck (name: ScenarioName, result: { ok: boolean, detail: string, uncertain?: string }, mode: Report['mode']): Check {
  const status = result.ok ? 'pass' : mode === 'local' && result.uncertain === undefined ? 'fail' : 'warn'
  const detail = result.ok || mode === 'local' ? result.detail : `${result.detail} (other clients of the deployment may have been counted too)`
  return check(`${name}: the server counted the same requests and 429s per route as the client`, status, detail, 'expectation', name)
}

function settingsOf (config: LoadTestConfig): Record<string, unknown> {
  const { stackEnv, loginPassword, thresholds, metricsToken, ...rest } = config
  return {
    ...rest,
    metricsToken: metricsToken === undefined ? undefined : '(given)',
    thresholds: thresholds.map((t) => t.source),
    loginPassword: loginPassword === undefined ? undefined : '(given)',
    stackEnv: Object.keys(stackEnv)
  }
}

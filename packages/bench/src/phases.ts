// The measurements, one function per phase. Every load runs in its own process (load.ts); this
// process only sets things up, hosts groq-mock, and reads /proc.
import { execFile } from 'node:child_process'
import { writeFile } from 'node:fs/promises'
import { loadavg } from 'node:os'
import { join } from 'node:path'
import { fileURLToPath } from 'node:url'
import { promisify } from 'node:util'
import type { GroqMock } from '@documind/groq-mock'
import { mapLimit } from '@documind/harness'
import bcrypt from 'bcrypt'
import { httpJson, postJson, signup, stickyAgent, uploadPdf, type BenchUser } from './api.js'
import type { BenchOptions } from './args.js'
import { baselineHeaders, startBaseline } from './baseline.js'
import { forkScript, stopChild } from './children.js'
import { runLoad, startLoad } from './load.js'
import type { LoadResult, LoadSpec } from './load-types.js'
import { ASK_QUESTIONS, type LargePdf } from './pdf.js'
import { cpuSeconds, rssMb, workerProcesses, type Stack } from './stack.js'
import { median, ratio, round } from './stats.js'
import type {
  AskResult, BcryptCeiling, HealthResult, HealthRound, IngestResult, IngestUpload, LoadAverages, LoadFigures, LoginResult, WorkerMemory
} from './types.js'

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
  /** The PostgreSQL backends serving the bench database (undefined with --embedded). */
  postgresPids?: () => Promise<number[]>
}

const sleep = async (ms: number): Promise<void> => { await new Promise((resolve) => setTimeout(resolve, ms)) }

export function loadAverages (): number[] {
  return loadavg().map((v) => round(v, 2))
}

async function withLoadAverages<T extends object> (fn: () => Promise<T>): Promise<T & LoadAverages> {
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

async function cpuByPid (source: PidSource): Promise<Map<number, number>> {
  const pids = typeof source === 'function' ? await source() : source
  return new Map(await Promise.all(pids.map(async (pid) => [pid, await cpuSeconds(pid)] as [number, number])))
}

/** CPU seconds between two readings; a process that appeared in between (a new pool connection) counts from 0. */
function cpuDelta (before: Map<number, number>, after: Map<number, number>): number {
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

function checkLoad (ctx: Context, what: string, result: LoadResult): void {
  const bad = result.responses - result.ok
  if (bad > 0 || result.errors > 0 || result.timeouts > 0) {
    ctx.warnings.push(`${what}: ${bad} non-2xx (${JSON.stringify(result.statuses)}), ${result.errors} errors, ${result.timeouts} timeouts`)
  }
}

// ---------------------------------------------------------------- health

export async function healthPhase (ctx: Context): Promise<HealthResult> {
  return await withLoadAverages(async () => {
    const { plan, workers } = ctx.options
    const { connections, warmupSec, measureSec, rounds } = plan.health
    // The bare cluster answers with exactly the headers and body the real /health sends.
    const sample = await httpJson(`${ctx.stack.url}/health`)
    if (sample.status !== 200) throw new Error(`GET /health answered ${sample.status}`)
    const response = { headers: baselineHeaders(sample.headers), body: sample.text }
    const baseline = await startBaseline(workers, response)
    // The same response from a bare Fastify app: tells the framework's own cost from our plugins'.
    const fastify = await startBaseline(workers, response, 'fastify').catch(async (err: unknown) => {
      await baseline.stop()
      throw err
    })
    try {
      const baselineSample = await httpJson(`${baseline.url}/health`)
      const spec = (url: string, durationSec: number): LoadSpec => ({ url, path: '/health', connections, durationSec, timeoutSec: 10 })
      ctx.log(`health: warm-up ${warmupSec} s each`)
      await runLoad(spec(ctx.stack.url, warmupSec))
      await runLoad(spec(baseline.url, warmupSec))
      await runLoad(spec(fastify.url, warmupSec))
      const stackPids = await apiWorkerPids(ctx)
      const targets = {
        stack: { url: ctx.stack.url, pids: stackPids },
        baseline: { url: baseline.url, pids: baseline.pids },
        fastify: { url: fastify.url, pids: fastify.pids }
      }
      const roundResults: HealthRound[] = []
      const last: Partial<Record<keyof typeof targets, MeasuredLoad>> = {}
      const stackP50: number[] = []
      for (let r = 0; r < rounds; r++) {
        // Alternating order cancels a drift of the machine's background load.
        const order = r % 2 === 0 ? ['baseline', 'stack', 'fastify'] as const : ['fastify', 'stack', 'baseline'] as const
        for (const which of order) {
          const measured = await measuredLoad(spec(targets[which].url, measureSec), targets[which].pids)
          checkLoad(ctx, `health ${which} round ${r + 1}`, measured.result)
          last[which] = measured
        }
        const s = last.stack!
        const b = last.baseline!
        const f = last.fastify!
        stackP50.push(s.result.latency.p50_ms)
        roundResults.push({
          stack_rps: s.result.rps,
          baseline_rps: b.result.rps,
          fastify_rps: f.result.rps,
          ratio: round(ratio(s.result.rps, b.result.rps), 4),
          stack_p99_ms: s.result.latency.p99_ms,
          baseline_p99_ms: b.result.latency.p99_ms,
          fastify_p99_ms: f.result.latency.p99_ms,
          stack_cpu_ms_per_req: s.cpuMsPerOk,
          baseline_cpu_ms_per_req: b.cpuMsPerOk,
          fastify_cpu_ms_per_req: f.cpuMsPerOk
        })
        ctx.log(`health: round ${r + 1}/${rounds}: stack ${s.result.rps} req/s p99 ${s.result.latency.p99_ms} ms ${round(s.cpuMsPerOk * 1000, 1)} us CPU/req, ` +
          `bare ${b.result.rps} req/s p99 ${b.result.latency.p99_ms} ms ${round(b.cpuMsPerOk * 1000, 1)} us CPU/req, ` +
          `bare Fastify ${f.result.rps} req/s p99 ${f.result.latency.p99_ms} ms ${round(f.cpuMsPerOk * 1000, 1)} us CPU/req (load ${loadavg()[0]!.toFixed(2)})`)
      }
      const stackRps = median(roundResults.map((r) => r.stack_rps))
      const baselineRps = median(roundResults.map((r) => r.baseline_rps))
      const fastifyRps = median(roundResults.map((r) => r.fastify_rps))
      const stackCpu = median(roundResults.map((r) => r.stack_cpu_ms_per_req))
      const baselineCpu = median(roundResults.map((r) => r.baseline_cpu_ms_per_req))
      const fastifyCpu = median(roundResults.map((r) => r.fastify_cpu_ms_per_req))
      return {
        ratio: round(ratio(stackRps, baselineRps), 4),
        p99_ms: round(median(roundResults.map((r) => r.stack_p99_ms))),
        p50_ms: round(median(stackP50)),
        rps: round(stackRps, 1),
        baseline_rps: round(baselineRps, 1),
        baseline_p99_ms: round(median(roundResults.map((r) => r.baseline_p99_ms))),
        connections,
        measure_s: measureSec,
        stack_cpu_us_per_req: round(stackCpu * 1000, 1),
        baseline_cpu_us_per_req: round(baselineCpu * 1000, 1),
        cpu_ratio: round(ratio(baselineCpu, stackCpu), 4),
        fastify_rps: round(fastifyRps, 1),
        fastify_p99_ms: round(median(roundResults.map((r) => r.fastify_p99_ms))),
        fastify_cpu_us_per_req: round(fastifyCpu * 1000, 1),
        fastify_ratio: round(ratio(fastifyRps, baselineRps), 4),
        fastify_cpu_ratio: round(ratio(baselineCpu, fastifyCpu), 4),
        stack_over_fastify: round(ratio(stackRps, fastifyRps), 4),
        rounds: roundResults,
        stack: figures(last.stack!.result, last.stack),
        baseline: figures(last.baseline!.result, last.baseline),
        fastify: figures(last.fastify!.result, last.fastify),
        stack_response_bytes: sample.bytes,
        baseline_response_bytes: baselineSample.bytes
      }
    } finally {
      await Promise.all([baseline.stop(), fastify.stop()])
    }
  })
}

// ---------------------------------------------------------------- login

interface ProbeResult { completed: number, elapsed_s: number, cpu_s: number }

/** `processes` bcrypt probes started together; each keeps `parallel` compares in flight. */
export async function bcryptProbes (processes: number, hash: string, password: string, parallel: number, seconds: number): Promise<ProbeResult[]> {
  const children = Array.from({ length: processes }, () => forkScript('bcrypt-probe', [hash, password, String(parallel), String(seconds)], {
    env: { ...process.env, UV_THREADPOOL_SIZE: String(parallel) }
  }))
  try {
    const ready = children.map(async (child) => await new Promise<void>((resolve, reject) => {
      child.once('message', () => resolve())
      child.once('exit', (code) => reject(new Error(`bcrypt probe exited (${code}) before it was ready`)))
    }))
    await Promise.all(ready)
    const results = children.map(async (child) => await new Promise<ProbeResult>((resolve, reject) => {
      child.on('message', (message: { type: string, completed?: number, elapsed_s?: number, cpu_s?: number, message?: string }) => {
        if (message.type === 'result') resolve({ completed: message.completed!, elapsed_s: message.elapsed_s!, cpu_s: message.cpu_s! })
        else if (message.type === 'error') reject(new Error(`bcrypt probe: ${message.message ?? ''}`))
      })
      child.send({ type: 'go' })
    }))
    return await Promise.all(results)
  } finally {
    await Promise.all(children.map(async (child) => await stopChild(child, 1000)))
  }
}

export async function measureBcryptCeiling (ctx: Context): Promise<BcryptCeiling> {
  const { workers, bcryptCost, plan } = ctx.options
  const parallel = ctx.uvThreadpoolSize
  ctx.log(`login: bcrypt ceiling, ${workers} processes x ${parallel} parallel compares, cost ${bcryptCost}`)
  const password = 'bench-password-1234'
  const hash = await bcrypt.hash(password, bcryptCost)
  const together = await bcryptProbes(workers, hash, password, parallel, plan.bcrypt.seconds)
  const alone = plan.bcrypt.singleProcess ? (await bcryptProbes(1, hash, password, parallel, plan.bcrypt.seconds))[0]! : undefined
  const ceiling = together.reduce((sum, r) => sum + r.completed / r.elapsed_s, 0)
  const compares = together.reduce((sum, r) => sum + r.completed, 0)
  const cpu = together.reduce((sum, r) => sum + r.cpu_s, 0)
  const single = alone === undefined ? Number.NaN : alone.completed / alone.elapsed_s
  return {
    cost: bcryptCost,
    parallel_per_worker: parallel,
    workers,
    ceiling_rps: round(ceiling, 3),
    single_process_rps: round(single, 3),
    naive_ceiling_rps: round(single * workers, 3),
    cpu_ms_per_compare: round(compares > 0 ? (cpu * 1000) / compares : Number.NaN, 2),
    measure_s: plan.bcrypt.seconds
  }
}

/** At least `count` users signed up through the API (bcrypt at the stack's cost). */
export async function ensureUsers (ctx: Context, count: number): Promise<BenchUser[]> {
  const missing = count - ctx.users.length
  if (missing > 0) {
    ctx.log(`setup: signing up ${missing} users`)
    const created = await mapLimit(Array.from({ length: missing }, (_, i) => i), ctx.options.workers * ctx.uvThreadpoolSize,
      async () => await signup(ctx.stack.url, 'bench'))
    ctx.users.push(...created)
  }
  return ctx.users.slice(0, count)
}

export async function loginPhase (ctx: Context): Promise<LoginResult> {
  return await withLoadAverages(async () => {
    const { plan } = ctx.options
    const { connections, warmupLogins, measureSec } = plan.login
    // Measured first, while nothing else runs: the machine's own bcrypt capacity.
    const bcrypt = await measureBcryptCeiling(ctx)
    ctx.log(`login: ceiling ${bcrypt.ceiling_rps} compares/s (one process ${bcrypt.single_process_rps})`)
    const users = await ensureUsers(ctx, plan.login.users)
    const spec = (durationSec: number): LoadSpec => ({
      url: ctx.stack.url,
      method: 'POST',
      path: '/auth/login',
      connections,
      durationSec,
      timeoutSec: 120,
      headers: { 'content-type': 'application/json' },
      variants: users.map((u) => ({ body: JSON.stringify({ email: u.email, password: u.password }) }))
    })
    // Warm-up: a few logins one after the other. (An aborted load run would leave its logins' bcrypt
    // work running in the workers, billed to the measurement.)
    ctx.log(`login: warm-up ${warmupLogins} logins, then ${measureSec} s at ${connections} connections`)
    for (const user of users.slice(0, warmupLogins)) {
      const res = await postJson(`${ctx.stack.url}/auth/login`, { email: user.email, password: user.password })
      if (res.status !== 200) throw new Error(`POST /auth/login failed: ${res.status} ${res.text.slice(0, 300)}`)
    }
    await quiesce(ctx, 'login warm-up')
    const measured = await measuredLoad(spec(measureSec), await apiWorkerPids(ctx))
    const load = measured.result
    checkLoad(ctx, 'login', load)
    ctx.log(`login: ${load.rps} req/s, p50 ${load.latency.p50_ms} ms, p99 ${load.latency.p99_ms} ms`)
    return {
      ratio: round(ratio(load.rps, bcrypt.ceiling_rps), 4),
      ratio_naive: round(ratio(load.rps, bcrypt.naive_ceiling_rps), 4),
      cpu_ratio: round(ratio(bcrypt.cpu_ms_per_compare, measured.cpuMsPerOk), 4),
      rps: load.rps,
      p50_ms: load.latency.p50_ms,
      p99_ms: load.latency.p99_ms,
      p99_over_p50: round(ratio(load.latency.p99_ms, load.latency.p50_ms), 3),
      connections,
      users: users.length,
      measure_s: measureSec,
      bcrypt,
      load: figures(load, measured)
    }
  })
}

// ---------------------------------------------------------------- ask

export const ASK_DOCUMENT = 'bench-facts.pdf'

async function ensureDocuments (ctx: Context, users: readonly BenchUser[]): Promise<void> {
  const pdf = await ctx.askPdf
  const todo = users.filter((u) => !ctx.withDocument.has(u.email))
  if (todo.length === 0) return
  ctx.log(`setup: uploading the /ask document for ${todo.length} users`)
  await mapLimit(todo, 4, async (user) => {
    const res = await uploadPdf(ctx.stack.url, user, ASK_DOCUMENT, pdf)
    if (res.status !== 200 || res.body.success !== true) throw new Error(`upload failed: ${res.status} ${res.text.slice(0, 300)}`)
    ctx.withDocument.add(user.email)
  })
}

export async function askPhase (ctx: Context): Promise<AskResult> {
  return await withLoadAverages(async () => {
    const { plan, llmLatencyMs } = ctx.options
    const { connections, measureSec, timeoutSec } = plan.ask
    const users = await ensureUsers(ctx, plan.ask.users)
    await ensureDocuments(ctx, users)
    // Warm-up and sanity check: one question per user, answered by the LLM (not cached, not extractive).
    ctx.log('ask: warm-up, one question per user')
    await mapLimit(users, users.length, async (user, i) => {
      const res = await postJson(`${ctx.stack.url}/ask`, { question: ASK_QUESTIONS[i % ASK_QUESTIONS.length], language: 'en' }, { authorization: `Bearer ${user.token}` })
      const metadata = res.body.metadata as { cached?: boolean, model?: string } | undefined
      if (res.status !== 200 || res.body.success !== true) throw new Error(`POST /ask failed: ${res.status} ${res.text.slice(0, 300)}`)
      if (metadata?.cached !== false || metadata.model === undefined || metadata.model === 'extractive') {
        throw new Error(`POST /ask did not reach the LLM: ${res.text.slice(0, 300)}`)
      }
    })
    const variants = users.flatMap((user) => ASK_QUESTIONS.map((question) => ({
      body: JSON.stringify({ question, language: 'en' }),
      headers: { authorization: `Bearer ${user.token}` }
    })))
    // Interleave users so consecutive requests belong to different users.
    const interleaved = ASK_QUESTIONS.flatMap((_, q) => users.map((_, u) => variants[u * ASK_QUESTIONS.length + q]!))
    // Then a warm-up at the measured concurrency, as the health phase does: the workers' connection
    // pools (PostgreSQL, the LLM) grow to what this load keeps open, as on a server already in service.
    // The measured run still opens its own connections and sends its first requests all at once.
    const spec: LoadSpec = {
      url: ctx.stack.url,
      method: 'POST',
      path: '/ask',
      connections,
      durationSec: measureSec,
      timeoutSec,
      headers: { 'content-type': 'application/json' },
      variants: interleaved
    }
    ctx.log(`ask: warm-up ${plan.ask.warmupSec} s at ${connections} connections`)
    await runLoad({ ...spec, durationSec: plan.ask.warmupSec })
    await quiesce(ctx, 'ask warm-up')
    ctx.mock.resetStats()
    ctx.log(`ask: ${measureSec} s at ${connections} connections, L = ${llmLatencyMs} ms`)
    const measured = await measuredLoad(spec, await apiWorkerPids(ctx), ctx.postgresPids === undefined ? {} : { postgres: ctx.postgresPids })
    const load = measured.result
    const stats = ctx.mock.stats()
    checkLoad(ctx, 'ask', load)
    ctx.log(`ask: ${load.rps} req/s, p50 ${load.latency.p50_ms} ms, p95 ${load.latency.p95_ms} ms, p99 ${load.latency.p99_ms} ms`)
    const llmCalls = stats.byEndpoint['chat.completions']
    if (llmCalls < load.ok) ctx.warnings.push(`ask: ${load.ok} answers but only ${llmCalls} LLM calls (cached answers?)`)
    return {
      p95_over_latency: round(ratio(load.latency.p95_ms, llmLatencyMs), 4),
      p95_over_latency_after_first: round(ratio(load.latency_after_first.p95_ms, llmLatencyMs), 4),
      p50_over_latency: round(ratio(load.latency.p50_ms, llmLatencyMs), 4),
      p99_over_latency: round(ratio(load.latency.p99_ms, llmLatencyMs), 4),
      llm_latency_ms: llmLatencyMs,
      p50_ms: load.latency.p50_ms,
      p95_ms: load.latency.p95_ms,
      p99_ms: load.latency.p99_ms,
      rps: load.rps,
      connections,
      users: users.length,
      measure_s: measureSec,
      llm_calls: llmCalls,
      speech_calls: stats.byEndpoint['audio.speech'],
      load: figures(load, measured)
    }
  })
}

// ---------------------------------------------------------------- ingest

interface ParseAlone { import_ms: number, parse_ms: number[], pages: number, chars: number }

async function pdfParseAlone (file: string, runs: number, warmupFile: string): Promise<ParseAlone> {
  const script = fileURLToPath(new URL('./pdf-parse-alone.js', import.meta.url))
  const { stdout } = await promisify(execFile)(process.execPath, [script, file, String(runs), warmupFile], { timeout: 600_000, maxBuffer: 1024 * 1024 })
  return JSON.parse(stdout.trim().split('\n').pop()!) as ParseAlone
}

export async function ingestPhase (ctx: Context): Promise<IngestResult> {
  return await withLoadAverages(async () => {
    const { probeConnections, probeRate, idleProbeSec, uploads } = ctx.options.plan.ingest
    const [pdf, small] = await Promise.all([ctx.largePdf, ctx.askPdf])
    const file = join(ctx.workDir, 'ingest.pdf')
    const warmupFile = join(ctx.workDir, 'warmup.pdf')
    await writeFile(file, pdf.data)
    await writeFile(warmupFile, small)
    const user = await signup(ctx.stack.url, 'ingest')
    const probe = (durationSec: number): LoadSpec => ({
      url: ctx.stack.url, path: '/health', connections: probeConnections, overallRate: probeRate, durationSec, timeoutSec: 30
    })
    // One connection for every upload: the same worker, whose extraction thread the small upload starts.
    const agent = stickyAgent()
    try {
      const warm = await uploadPdf(ctx.stack.url, user, 'warmup.pdf', small, agent)
      if (warm.status !== 200 || warm.body.success !== true) throw new Error(`warm-up upload failed: ${warm.status} ${warm.text.slice(0, 300)}`)
      ctx.log(`ingest: /health probe with nothing ingesting, ${idleProbeSec} s`)
      const idle = await runLoad(probe(idleProbeSec))
      checkLoad(ctx, 'ingest idle probe', idle)
      const results: IngestUpload[] = []
      for (let i = 0; i < uploads; i++) {
        ctx.log(`ingest: upload ${i + 1}/${uploads} of ${(pdf.data.length / 1e6).toFixed(1)} MB (${pdf.pages} pages) with the /health probe running`)
        const running = startLoad(probe(900))
        await running.started
        await sleep(250)
        let res
        try {
          res = await uploadPdf(ctx.stack.url, user, 'ingest.pdf', pdf.data, agent)
        } finally {
          await sleep(250)
          running.stop()
        }
        const health = await running.result
        checkLoad(ctx, `ingest probe ${i + 1}`, health)
        if (res.status !== 200 || res.body.success !== true) throw new Error(`upload failed: ${res.status} ${res.text.slice(0, 300)}`)
        const document = res.body.document as { pages?: number } | undefined
        const statistics = res.body.statistics as { total_chunks?: number } | undefined
        results.push({ upload_ms: round(res.ms, 1), status: res.status, pages: document?.pages ?? null, chunks: statistics?.total_chunks ?? null, health: figures(health) })
        ctx.log(`ingest: upload ${round(res.ms, 0)} ms, /health p99 ${health.latency.p99_ms} ms`)
      }
      ctx.log(`ingest: pdf-parse alone on the same file, ${uploads} run(s)`)
      const alone = await pdfParseAlone(file, uploads, warmupFile)
      const uploadMs = median(results.map((r) => r.upload_ms))
      const parseMs = median(alone.parse_ms)
      return {
        health_p99_ms: Math.max(...results.map((r) => r.health.latency.p99_ms)),
        health_p99_idle_ms: idle.latency.p99_ms,
        ratio: round(ratio(parseMs, uploadMs), 4),
        upload_ms: round(uploadMs, 1),
        pdf_parse_ms: round(parseMs, 1),
        pdf_parse_import_ms: round(alone.import_ms, 1),
        pdf_bytes: pdf.data.length,
        pdf_pages: alone.pages,
        probe_connections: probeConnections,
        probe_rate_rps: probeRate,
        uploads: results,
        pdf_parse_runs_ms: alone.parse_ms.map((ms) => round(ms, 1)),
        health_idle: figures(idle)
      }
    } finally {
      agent.destroy()
    }
  })
}

// ---------------------------------------------------------------- memory

export async function workerMemory (stack: Stack): Promise<WorkerMemory[]> {
  const workers = await workerProcesses(stack.pm2Home)
  return await Promise.all(workers.map(async (w) => ({ pm_id: w.pmId, pid: w.pid, rss_mb: round(await rssMb(w.pid), 1) })))
}

/**
 * Polls the workers' RSS (every 500 ms, no request sent) until every worker is below 90 % of its
 * boot RSS and steady (within 1 MB) for 2 s, or until `deadline` (performance.now() time).
 */
export async function settledWorkerMemory (boot: readonly WorkerMemory[], deadline: number): Promise<{ workers: WorkerMemory[], settled: boolean }> {
  const bootRss = new Map(boot.map((w) => [w.pid, w.rss_mb]))
  // Only /proc is read here (no `pm2 jlist`, a whole Node process each time): the bcrypt ceiling may be running.
  const read = async (): Promise<WorkerMemory[]> => await Promise.all(boot.map(async (w) => ({ ...w, rss_mb: round(await rssMb(w.pid), 1) })))
  let last = await read()
  let steadySince = performance.now()
  while (true) {
    const dropped = last.every((w) => w.rss_mb < 0.9 * (bootRss.get(w.pid) ?? Number.POSITIVE_INFINITY))
    if (dropped && performance.now() - steadySince >= 2000) return { workers: last, settled: true }
    if (performance.now() >= deadline) return { workers: last, settled: false }
    await sleep(500)
    const next = await read()
    const steady = next.length === last.length && next.every((w, i) => Math.abs(w.rss_mb - last[i]!.rss_mb) <= 1)
    if (!steady) steadySince = performance.now()
    last = next
  }
}

export async function launcherRssMb (stack: Stack): Promise<number> {
  return round(await rssMb(stack.launcherPid), 1)
}

// One bench run: sets everything up, runs the phases in order, tears everything down (always).
import { mkdir, mkdtemp, rm } from 'node:fs/promises'
import { cpus, tmpdir, totalmem } from 'node:os'
import { join, resolve } from 'node:path'
import { createDatabase } from '@documind/harness'
import { startGroqMock } from '@documind/groq-mock'
import type { BenchOptions } from './args.js'
import { stopAllChildren } from './children.js'
import { evaluateGoals } from './goals.js'
import { makeAskPdf, makeLargeTextPdf } from './pdf.js'
import {
  askPhase, healthPhase, ingestPhase, instructionsPhase, launcherRssMb, loadAverages, loginPhase, quiesce, settledWorkerMemory, workerMemory, type Context
} from './phases/index.js'
import { deleteRedisKeys, postgresBackendPids, startStack, workerProcesses } from './stack.js'
import { round } from './stats.js'
import type { BenchResult, MemoryResult } from './types.js'

/** Cleanups run once, last registered first, whether the run ended, failed or was interrupted. */
export class Teardown {
  #steps: Array<{ name: string, fn: () => Promise<unknown> }> = []
  #running: Promise<void> | undefined

  add (name: string, fn: () => Promise<unknown>): void {
    this.#steps.push({ name, fn })
  }

  async run (log: (message: string) => void = () => {}): Promise<void> {
    this.#running ??= (async () => {
      for (const step of this.#steps.reverse()) {
        try {
          await step.fn()
        } catch (err) {
          log(`teardown: ${step.name} failed: ${(err as Error).message}`)
        }
      }
      // Whatever is left (a load runner of an interrupted phase, a probe).
      await stopAllChildren(2000)
    })()
    await this.#running
  }
}

/** The API server's maximum upload (MAX_UPLOAD_BYTES default, 10 MiB): the ingest PDF stays under it. */
const MAX_UPLOAD_BYTES = 10 * 1024 * 1024

export const METHOD = {
  latency: 'Raw per-request latency from autocannon\'s response events (process.hrtime, request written to response complete), ' +
    'every response kept; no histogram buckets, no coordinated-omission correction.',
  percentiles: 'Nearest rank over all raw latencies of a run: sorted[ceil(p/100 * n) - 1].',
  rps: '2xx responses / time from the start of the run to the last 2xx response.',
  load_generator: 'autocannon 9 in a child process of its own per run (not sharing an event loop with anything measured), ' +
    'on the same machine as the servers.',
  health: 'Same connections, duration and load generator against the full stack and a bare node:http cluster (node:cluster, same ' +
    'worker count) that sends the same status, headers and body; rounds alternate the order; ratio = median stack req/s / median bare req/s; ' +
    'p99 = median of the rounds\' p99.',
  login: 'Ceiling = sum of the bcrypt.compare/s of <workers> processes running at the same time, each keeping UV_THREADPOOL_SIZE compares ' +
    'in flight, at the stack\'s cost (what the machine can do); naive ceiling = workers x one process alone. Logins: correct passwords of ' +
    'users signed up through the API, round-robin.',
  ask: 'POST /ask {question, language} with Bearer tokens of users who uploaded a small real-text PDF; answer cache off (QUERY_CACHE_TTL=0) ' +
    'so every answer calls groq-mock, which answers after L ms; the answers\' background speech is left on (as in production). Warm-up: one ' +
    'question per user, then a run of the measured shape (same connections and questions) for a few seconds, so the workers\' pools ' +
    '(PostgreSQL, LLM connections) are at their working size; the measured run opens new connections and sends its first requests at once.',
  ingest: 'A pdfkit text-only PDF uploaded (POST /upload, multipart) on one keep-alive connection after a small warm-up upload on it, ' +
    'while a fixed-rate GET /health probe runs; pdf-parse alone = new PDFParse({data}).getText() in a separate process after a ' +
    'warm-up parse of the small PDF (import excluded); ratio = median pdf-parse time / median upload time.',
  memory: 'VmRSS from /proc/<pid>/status of each worker PID listed by `pm2 jlist` (PM2_HOME=<DATA_DIR>/pm2). boot = right after the ' +
    'ready banner; idle = before any request, once every worker\'s RSS fell below 90 % of its boot value and held steady for 2 s (V8 shrinks ' +
    'its heap only after a few idle seconds), or at the mode\'s deadline (idle_settled false); after_load = after every phase; MB = MiB.'
}

export async function runBench (options: BenchOptions, teardown: Teardown, log: (message: string) => void, commandLine: string): Promise<BenchResult> {
  const startedAt = new Date()
  const loadStart = loadAverages()
  const warnings: string[] = []
  const phases = new Set(options.phases)
  const uvThreadpoolSize = Number(process.env.UV_THREADPOOL_SIZE) > 0 ? Number(process.env.UV_THREADPOOL_SIZE) : 4
  if (loadStart[0]! > cpus().length * 0.5) {
    warnings.push(`the machine was busy at the start (load average ${loadStart.join(' ')} on ${cpus().length} CPUs): figures are lower than on an idle machine`)
  }

  const workDir = await mkdtemp(join(tmpdir(), 'documind-bench-work-'))
  teardown.add('work directory', async () => await rm(workDir, { recursive: true, force: true }))

  const mock = await startGroqMock({ port: 0, latencyMs: options.llmLatencyMs })
  teardown.add('groq-mock', async () => await mock.close())

  let databaseUrl: string | undefined
  let databaseName: string | undefined
  if (!options.embedded) {
    const db = await createDatabase('bench', options.adminDatabaseUrl)
    teardown.add(`database ${db.name}`, async () => await db.drop())
    databaseUrl = db.url
    databaseName = db.name
    log(`database ${db.name} created`)
  }

  // Generated while the stack boots.
  const askPdf = makeAskPdf()
  const largePdf = phases.has('ingest')
    ? makeLargeTextPdf(options.plan.ingest.targetBytes, MAX_UPLOAD_BYTES)
    : new Promise<never>(() => {})
  askPdf.catch(() => {})
  largePdf.catch(() => {})

  let cpuProfDir: string | undefined
  if (options.cpuProfDir !== undefined) {
    cpuProfDir = resolve(options.cpuProfDir)
    await mkdir(cpuProfDir, { recursive: true })
  }
  log(`starting the stack: ${options.workers} workers, ${options.redis ? 'Redis' : 'Postgres'} store, ${options.embedded ? 'embedded' : 'local'} database`)
  const stackOptions = {
    ...(options.repoRoot === undefined ? {} : { repoRoot: resolve(options.repoRoot) }),
    workers: options.workers,
    bcryptCost: options.bcryptCost,
    databaseUrl,
    redisUrl: options.redis ? options.redisUrl : undefined,
    groqBaseUrl: mock.url
  }
  const stack = await startStack({
    ...stackOptions,
    env: {
      ...options.extraEnv,
      ...(cpuProfDir === undefined
        ? {}
        : {
            NODE_OPTIONS: `${options.extraEnv.NODE_OPTIONS ?? ''} --import=${new URL('./cpu-prof-preload.js', import.meta.url).href}`.trim(),
            BENCH_CPU_PROF_DIR: cpuProfDir
          })
    }
  })
  teardown.add('stack', async () => await stack.stop())
  if (options.redis) {
    teardown.add('redis keys', async () => await deleteRedisKeys(options.redisUrl, stack.redisKeyPrefix))
  }
  log(`stack ready at ${stack.url}`)

  const ctx: Context = {
    options,
    stack,
    mock,
    workDir,
    uvThreadpoolSize,
    log,
    warnings,
    users: [],
    withDocument: new Set(),
    askPdf,
    largePdf,
    startVariant: async (name, env) => {
      log(`starting the stack with ${name}`)
      const variant = await startStack({ ...stackOptions, env: { ...options.extraEnv, ...env } })
      teardown.add(`stack with ${name}`, async () => await variant.stop())
      return variant
    },
    ...(databaseName === undefined ? {} : { postgresPids: async () => await postgresBackendPids(options.adminDatabaseUrl, databaseName) })
  }
  const settle = async (): Promise<void> => { await new Promise((resolve) => setTimeout(resolve, options.plan.settleSec * 1000)) }

  const result: BenchResult = {
    schema: 'documind-bench/1',
    mode: options.quick ? 'quick' : 'full',
    command: commandLine,
    started_at: startedAt.toISOString(),
    finished_at: '',
    duration_s: 0,
    machine: {
      cpus: cpus().length,
      cpu_model: cpus()[0]?.model.trim() ?? 'unknown',
      total_mem_mb: Math.round(totalmem() / 1024 / 1024),
      node: process.version,
      platform: `${process.platform} ${process.arch}`,
      load_avg_start: loadStart,
      load_avg_end: []
    },
    config: {
      workers: options.workers,
      bcrypt_cost: options.bcryptCost,
      uv_threadpool_size: uvThreadpoolSize,
      store: options.redis ? 'redis' : 'postgres',
      database: options.embedded ? 'embedded' : 'local',
      database_name: databaseName ?? null,
      llm_latency_ms: options.llmLatencyMs,
      phases: options.phases,
      cpu_prof_dir: cpuProfDir ?? null,
      extra_env: options.extraEnv,
      repo: options.repoRoot === undefined ? null : resolve(options.repoRoot)
    },
    goals: [],
    workers: [],
    method: METHOD,
    warnings
  }

  // Memory: one reading right after boot, then the workers are left alone (the PDFs are generated
  // meanwhile) until V8 has shrunk the heaps they grew while booting, which it does only after some
  // 10 to 30 s without activity; that settled figure is the idle one. (The bcrypt ceiling is not
  // measured in this window: it must see the same background load as the logins it is compared with.)
  let memory: Pick<MemoryResult, 'boot' | 'idle' | 'idle_settled' | 'idle_after_s' | 'launcher_idle_rss_mb'> | undefined
  const readyAt = performance.now()
  const boot = phases.has('memory') ? await workerMemory(stack) : undefined
  if (boot !== undefined) log(`memory: RSS right after boot ${boot.map((w) => `${w.rss_mb} MB`).join(', ')}`)
  // The PDFs are generated in this process: never while something is measured.
  await askPdf
  if (phases.has('ingest')) await largePdf
  if (boot !== undefined) {
    const idle = await settledWorkerMemory(boot, readyAt + options.plan.idleSettleMaxSec * 1000)
    memory = { boot, idle: idle.workers, idle_settled: idle.settled, idle_after_s: round((performance.now() - readyAt) / 1000, 1), launcher_idle_rss_mb: await launcherRssMb(stack) }
    log(`memory: idle RSS ${idle.workers.map((w) => `${w.rss_mb} MB`).join(', ')} (${idle.settled ? 'settled' : 'not settled yet'} ${memory.idle_after_s} s after boot)`)
  }
  await quiesce(ctx, 'boot')
  // Each phase starts once the workers are idle again: no phase is billed for the previous one's leftovers.
  if (phases.has('health')) result.health = await healthPhase(ctx)
  if (phases.has('instructions')) {
    await quiesce(ctx, 'before instructions')
    result.instructions = await instructionsPhase(ctx)
  }
  if (phases.has('login')) {
    await quiesce(ctx, 'before login')
    result.login = await loginPhase(ctx)
  }
  if (phases.has('ask')) {
    await quiesce(ctx, 'before ask')
    result.ask = await askPhase(ctx)
  }
  if (phases.has('ingest')) {
    await quiesce(ctx, 'before ingest')
    result.ingest = await ingestPhase(ctx)
  }
  if (memory !== undefined) {
    await quiesce(ctx, 'before the memory reading')
    await settle()
    const after = await workerMemory(stack)
    result.memory = {
      idle_rss_mb: Math.max(...memory.idle.map((w) => w.rss_mb)),
      boot_rss_mb: Math.max(...memory.boot.map((w) => w.rss_mb)),
      idle_settled: memory.idle_settled,
      idle_after_s: memory.idle_after_s,
      boot: memory.boot,
      after_load_rss_mb: Math.max(...after.map((w) => w.rss_mb)),
      idle: memory.idle,
      after_load: after,
      launcher_idle_rss_mb: memory.launcher_idle_rss_mb,
      launcher_after_load_rss_mb: await launcherRssMb(stack)
    }
    log(`memory: after load RSS ${after.map((w) => `${w.rss_mb} MB`).join(', ')}`)
  }
  const workers = await workerProcesses(stack.pm2Home)
  result.workers = workers.map((w) => ({ pm_id: w.pmId, pid: w.pid, status: w.status, restarts: w.restarts }))
  if (workers.some((w) => w.status !== 'online' || w.restarts > 0)) warnings.push(`workers restarted or not online at the end: ${JSON.stringify(result.workers)}`)

  const finishedAt = new Date()
  result.finished_at = finishedAt.toISOString()
  result.duration_s = round((finishedAt.getTime() - startedAt.getTime()) / 1000, 1)
  result.machine.load_avg_end = loadAverages()
  result.goals = evaluateGoals(result)
  return result
}

// The JSON document a run produces (`--json FILE`). Units are in the key names: _ms milliseconds,
// _s seconds, _mb MiB (2^20 bytes), _rps requests (or compares) per second, _bytes bytes; ratios
// have no unit. Figures that could not be measured are null in the JSON (NaN in memory).
import type { ThresholdOp } from '@documind/harness'
import type { LatencySummary, TimelineBucket } from './stats.js'

/** 1, 5 and 15 minute load averages (`uptime`), read when a phase starts and ends. */
export interface LoadAverages {
  load_avg_start: number[]
  load_avg_end: number[]
}

export interface LoadFigures {
  /** CPU (user + system) the server processes spent per 2xx response, in ms. */
  cpu_ms_per_req?: number
  /** The server processes' CPU use during the run, in cores. */
  server_cores?: number
  /** CPU per 2xx response in ms by process group: server, postgres (backends of the bench database), bench (groq-mock), load_generator. */
  cpu_ms_per_req_by_process?: Record<string, number>
  rps: number
  responses: number
  ok: number
  errors: number
  timeouts: number
  statuses: Record<string, number>
  latency: LatencySummary
  /** Without each connection's first request: all connections start at once, a burst that a real ramp-up would not have. */
  latency_after_first: LatencySummary
  /** Per second of the run: responses, p50, p95 (by completion time). */
  timeline: TimelineBucket[]
}

export interface HealthRound {
  stack_rps: number
  baseline_rps: number
  fastify_rps: number
  ratio: number
  stack_p99_ms: number
  baseline_p99_ms: number
  fastify_p99_ms: number
  stack_cpu_ms_per_req: number
  baseline_cpu_ms_per_req: number
  fastify_cpu_ms_per_req: number
  no_metrics_rps: number
  no_metrics_p99_ms: number
  no_metrics_cpu_ms_per_req: number
}

export interface HealthResult extends LoadAverages {
  /** Median over rounds of stack req/s ÷ median of bare node:http cluster req/s (reference). */
  ratio: number
  /** Median over rounds of the stack's p99 at `connections`. */
  p99_ms: number
  p50_ms: number
  rps: number
  baseline_rps: number
  baseline_p99_ms: number
  connections: number
  measure_s: number
  /**
   * CPU per request of the server processes (API workers / bare workers), medians over rounds, and
   * bare ÷ stack: what the ratio would be with the servers alone on the CPUs. Much less sensitive to
   * other load on the machine than req/s.
   */
  stack_cpu_us_per_req: number
  baseline_cpu_us_per_req: number
  cpu_ratio: number
  /**
   * The bare Fastify cluster (same response, one route, no plugins): the framework's floor. Its req/s
   * and CPU ratios to the bare node:http cluster bound what any Fastify app can reach here, and
   * stack ÷ fastify is the cost of our plugins alone.
   */
  fastify_rps: number
  fastify_p99_ms: number
  fastify_cpu_us_per_req: number
  fastify_ratio: number
  fastify_cpu_ratio: number
  /** Stack req/s ÷ bare Fastify req/s (medians over rounds). Goal >= 0.90. */
  stack_over_fastify: number
  /** Stack p99 ÷ bare Fastify p99 (medians over rounds). Goal <= 1.25. */
  p99_over_fastify: number
  /** The same stack with METRICS_ENABLED=false, measured in the same rounds. */
  no_metrics_rps: number
  no_metrics_p99_ms: number
  no_metrics_cpu_us_per_req: number
  /** 1 - stack req/s ÷ stack-without-metrics req/s. Goal <= 0.03. */
  metrics_cost: number
  /** Stack CPU per request ÷ the same without metrics, - 1 (load-independent view). */
  metrics_cpu_cost: number
  rounds: HealthRound[]
  /** The last round, in full. */
  stack: LoadFigures
  baseline: LoadFigures
  fastify: LoadFigures
  no_metrics: LoadFigures
  /** Bytes of one response, headers included, of each server. */
  stack_response_bytes: number
  baseline_response_bytes: number
}

export interface BcryptCeiling {
  cost: number
  /** Compares in flight per process (UV_THREADPOOL_SIZE of the workers). */
  parallel_per_worker: number
  workers: number
  /** Sum over `workers` probe processes running at the same time: what the machine can do. */
  ceiling_rps: number
  /** One probe process alone. */
  single_process_rps: number
  /** workers × single_process_rps: only reachable with at least workers × pool-size free cores (NaN in --quick). */
  naive_ceiling_rps: number
  /** CPU (user + system) per compare of the probes. */
  cpu_ms_per_compare: number
  measure_s: number
}

export interface LoginResult extends LoadAverages {
  /** Login req/s ÷ bcrypt ceiling_rps. Goal >= 0.85. */
  ratio: number
  /** Against naive_ceiling_rps, for reference. */
  ratio_naive: number
  /**
   * bcrypt CPU per compare ÷ API worker CPU per login: the share of a login's CPU that is bcrypt.
   * Unlike `ratio` it does not depend on other load on the machine.
   */
  cpu_ratio: number
  /** Successful logins per second between the first and the last completion (steady state). */
  rps: number
  p50_ms: number
  p99_ms: number
  /** Fairness under saturation: how much longer the unluckiest 1 % wait than the median. */
  p99_over_p50: number
  connections: number
  users: number
  measure_s: number
  bcrypt: BcryptCeiling
  load: LoadFigures
}

export interface AskResult extends LoadAverages {
  /** p95 ÷ L, over every response. Goal <= 1.15. */
  p95_over_latency: number
  /** p95 ÷ L without each connection's first request (the 200-request burst at the start). */
  p95_over_latency_after_first: number
  p50_over_latency: number
  p99_over_latency: number
  llm_latency_ms: number
  p50_ms: number
  p95_ms: number
  p99_ms: number
  rps: number
  connections: number
  users: number
  measure_s: number
  /** chat.completions calls groq-mock answered during the measurement (every /ask should make one). */
  llm_calls: number
  /** audio.speech calls (the answers' background speech) during the measurement. */
  speech_calls: number
  load: LoadFigures
}

export interface IngestUpload {
  upload_ms: number
  status: number
  pages: number | null
  chunks: number | null
  /** GET /health probe running during this upload. */
  health: LoadFigures
}

export interface IngestResult extends LoadAverages {
  /** Worst p99 of the /health probe during the uploads. Goal < 25 ms. */
  health_p99_ms: number
  /** Same probe with nothing ingesting, for reference. */
  health_p99_idle_ms: number
  /** pdf-parse alone ÷ upload (medians over the same number of runs). Goal >= 0.8. */
  ratio: number
  upload_ms: number
  pdf_parse_ms: number
  pdf_parse_import_ms: number
  pdf_bytes: number
  pdf_pages: number
  probe_connections: number
  probe_rate_rps: number
  uploads: IngestUpload[]
  pdf_parse_runs_ms: number[]
  health_idle: LoadFigures
}

export interface WorkerMemory {
  pm_id: number
  pid: number
  rss_mb: number
}

export interface MemoryResult {
  /**
   * Largest worker RSS at rest: before any request, once V8 has shrunk the heaps it grew while
   * booting (it does so after a few idle seconds). Goal < 120 MB (MiB).
   */
  idle_rss_mb: number
  /** false when the mode's deadline came first (then idle_rss_mb is the last reading). */
  idle_settled: boolean
  /** When the idle reading was taken, seconds after the ready banner. */
  idle_after_s: number
  /** Largest worker RSS right after the ready banner. */
  boot_rss_mb: number
  after_load_rss_mb: number
  boot: WorkerMemory[]
  idle: WorkerMemory[]
  after_load: WorkerMemory[]
  /** RSS of the PM2 launcher process (PM2's God runs in it). */
  launcher_idle_rss_mb: number
  launcher_after_load_rss_mb: number
}

export interface GoalResult {
  id: string
  label: string
  op: ThresholdOp
  target: number
  unit: string
  value: number | null
  /** null when the figure was not measured. */
  met: boolean | null
}

export interface BenchResult {
  schema: 'documind-bench/1'
  mode: 'quick' | 'full'
  command: string
  started_at: string
  finished_at: string
  duration_s: number
  machine: {
    cpus: number
    cpu_model: string
    total_mem_mb: number
    node: string
    platform: string
  } & LoadAverages
  config: {
    workers: number
    bcrypt_cost: number
    uv_threadpool_size: number
    store: 'postgres' | 'redis'
    database: 'local' | 'embedded'
    /** The throwaway database (dropped at the end), null with --embedded. */
    database_name: string | null
    llm_latency_ms: number
    phases: string[]
    cpu_prof_dir: string | null
    /** --env settings given to the stack. */
    extra_env: Record<string, string>
    /** The checkout started with --repo, or null for this one. */
    repo: string | null
  }
  health?: HealthResult
  instructions?: InstructionsResult
  login?: LoginResult
  ask?: AskResult
  ingest?: IngestResult
  memory?: MemoryResult
  goals: GoalResult[]
  /** The API workers at the end of the run, as PM2 lists them. */
  workers: Array<{ pm_id: number, pid: number, status: string, restarts: number }>
  method: Record<string, string>
  warnings: string[]
}

/** One process under callgrind: user-space instructions (Ir) per GET /health. */
export interface InstructionsTarget {
  /** Median of the samples. */
  per_request: number
  /** Per request, less the idle rate (timer work) times the sample's duration. */
  samples: number[]
  /** Per request as counted. */
  raw_samples: number[]
  /** Instructions per second of the process left idle (timers), measured before the samples. */
  idle_ir_per_s: number
}

export interface InstructionsResult extends LoadAverages {
  /** API process ÷ bare Fastify process, instructions per /health. Goal <= 1.15. */
  ratio: number
  app_per_request: number
  fastify_per_request: number
  /** The API process with METRICS_ENABLED=false, and what metrics add: app ÷ that - 1. */
  app_no_metrics_per_request: number
  metrics_cost: number
  app: InstructionsTarget
  app_no_metrics: InstructionsTarget
  fastify: InstructionsTarget
  warmup_requests: number
  settle_requests: number
  requests: number
  connections: number
}

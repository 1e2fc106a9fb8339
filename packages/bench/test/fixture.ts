import { evaluateGoals } from '../src/goals.js'
import type { LatencySummary } from '../src/stats.js'
import type { BenchResult, LoadFigures } from '../src/types.js'

export function latency (p50: number, p99: number): LatencySummary {
  return { count: 100, min_ms: p50 / 2, mean_ms: p50, p50_ms: p50, p90_ms: p50, p95_ms: (p50 + p99) / 2, p99_ms: p99, p999_ms: p99, max_ms: p99 }
}

export function load (rps: number, p50: number, p99: number): LoadFigures {
  return { rps, responses: 100, ok: 100, errors: 0, timeouts: 0, statuses: { 200: 100 }, latency: latency(p50, p99), latency_after_first: latency(p50, p99), timeline: [] }
}

const averages = { load_avg_start: [1.5, 1.2, 1], load_avg_end: [1.7, 1.3, 1] }

/** A complete result, as a full run produces it (figures invented). */
export function sampleResult (): BenchResult {
  const result: BenchResult = {
    schema: 'documind-bench/1',
    mode: 'full',
    command: 'bench',
    started_at: '2026-01-01T00:00:00.000Z',
    finished_at: '2026-01-01T00:03:00.000Z',
    duration_s: 180,
    machine: { cpus: 2, cpu_model: 'Test CPU', total_mem_mb: 24000, node: 'v20.20.2', platform: 'linux x64', ...averages },
    config: {
      workers: 2,
      bcrypt_cost: 12,
      uv_threadpool_size: 4,
      store: 'postgres',
      database: 'local',
      database_name: 'bench_x',
      llm_latency_ms: 2000,
      phases: ['health', 'instructions', 'login', 'ask', 'ingest', 'memory'],
      cpu_prof_dir: null,
      extra_env: {},
      repo: null
    },
    health: {
      ratio: 0.5,
      p99_ms: 21.5,
      p50_ms: 4,
      rps: 12000,
      baseline_rps: 24000,
      baseline_p99_ms: 9,
      connections: 100,
      measure_s: 8,
      stack_cpu_us_per_req: 50,
      baseline_cpu_us_per_req: 20,
      cpu_ratio: 0.4,
      fastify_rps: 18000,
      fastify_p99_ms: 12,
      fastify_cpu_us_per_req: 27,
      fastify_ratio: 0.75,
      fastify_cpu_ratio: 0.7407,
      stack_over_fastify: 0.6667,
      p99_over_fastify: 1.7917,
      no_metrics_rps: 12100,
      no_metrics_p99_ms: 21,
      no_metrics_cpu_us_per_req: 49,
      metrics_cost: 0.0083,
      metrics_cpu_cost: 0.0204,
      rounds: [{
        stack_rps: 12000,
        baseline_rps: 24000,
        fastify_rps: 18000,
        ratio: 0.5,
        stack_p99_ms: 21.5,
        baseline_p99_ms: 9,
        fastify_p99_ms: 12,
        stack_cpu_ms_per_req: 0.05,
        baseline_cpu_ms_per_req: 0.02,
        fastify_cpu_ms_per_req: 0.027,
        no_metrics_rps: 12100,
        no_metrics_p99_ms: 21,
        no_metrics_cpu_ms_per_req: 0.049
      }],
      stack: load(12000, 4, 21.5),
      baseline: load(24000, 2, 9),
      fastify: load(18000, 3, 12),
      no_metrics: load(12100, 4, 21),
      stack_response_bytes: 909,
      baseline_response_bytes: 908,
      ...averages
    },
    instructions: {
      ratio: 1.5,
      app_per_request: 156000,
      fastify_per_request: 104000,
      app_no_metrics_per_request: 152000,
      metrics_cost: 0.0263,
      app: { per_request: 156000, samples: [157000, 156000, 155000], raw_samples: [160000, 159000, 158000], idle_ir_per_s: 300000 },
      app_no_metrics: { per_request: 152000, samples: [152000, 152000, 153000], raw_samples: [153000, 153000, 154000], idle_ir_per_s: 50000 },
      fastify: { per_request: 104000, samples: [104000, 104000, 105000], raw_samples: [104000, 104000, 105000], idle_ir_per_s: 1000 },
      warmup_requests: 30000,
      settle_requests: 10000,
      requests: 2000,
      connections: 4,
      ...averages
    },
    login: {
      ratio: 0.9,
      ratio_naive: 0.45,
      cpu_ratio: 0.91,
      rps: 9,
      p50_ms: 1000,
      p99_ms: 1600,
      p99_over_p50: 1.6,
      connections: 16,
      users: 16,
      measure_s: 30,
      bcrypt: { cost: 12, parallel_per_worker: 4, workers: 2, ceiling_rps: 10, single_process_rps: 10, naive_ceiling_rps: 20, cpu_ms_per_compare: 210, measure_s: 4 },
      load: { ...load(9, 1000, 1600), cpu_ms_per_req: 230 },
      ...averages
    },
    ask: {
      p95_over_latency: 1.2,
      p95_over_latency_after_first: 1.08,
      p50_over_latency: 1.05,
      p99_over_latency: 1.4,
      llm_latency_ms: 2000,
      p50_ms: 2100,
      p95_ms: 2400,
      p99_ms: 2800,
      rps: 90,
      connections: 200,
      users: 20,
      measure_s: 30,
      llm_calls: 2700,
      speech_calls: 60,
      load: { ...load(90, 2100, 2800), cpu_ms_per_req: 5, server_cores: 0.45, cpu_ms_per_req_by_process: { server: 5, postgres: 1.5, bench: 1, load_generator: 0.5 } },
      ...averages
    },
    ingest: {
      health_p99_ms: 20,
      health_p99_idle_ms: 12,
      ratio: 0.9,
      upload_ms: 5000,
      pdf_parse_ms: 4500,
      pdf_parse_import_ms: 300,
      pdf_bytes: 9_990_000,
      pdf_pages: 850,
      probe_connections: 10,
      probe_rate_rps: 200,
      uploads: [{ upload_ms: 5000, status: 200, pages: 850, chunks: 850, health: load(200, 3, 20) }],
      pdf_parse_runs_ms: [4500],
      health_idle: load(200, 3, 12),
      ...averages
    },
    memory: {
      idle_rss_mb: 125.5,
      idle_settled: false,
      idle_after_s: 12,
      boot_rss_mb: 130,
      boot: [{ pm_id: 0, pid: 10, rss_mb: 130 }, { pm_id: 1, pid: 11, rss_mb: 126 }],
      after_load_rss_mb: 180,
      idle: [{ pm_id: 0, pid: 10, rss_mb: 125.5 }, { pm_id: 1, pid: 11, rss_mb: 121 }],
      after_load: [{ pm_id: 0, pid: 10, rss_mb: 180 }, { pm_id: 1, pid: 11, rss_mb: 170 }],
      launcher_idle_rss_mb: 90,
      launcher_after_load_rss_mb: 80
    },
    goals: [],
    workers: [{ pm_id: 0, pid: 10, status: 'online', restarts: 0 }, { pm_id: 1, pid: 11, status: 'online', restarts: 0 }],
    method: { percentiles: 'nearest rank' },
    warnings: []
  }
  result.goals = evaluateGoals(result)
  return result
}

// Formatting (pure): the printed table and the JSON document.
import { GOALS, goalText } from './goals.js'
import type { BenchResult, GoalResult, LoadAverages } from './types.js'

export interface TableRow {
  phase: string
  measurement: string
  value: string
  goal: string
  result: string
}

/** A number for humans: fixed decimals, thousands separators, 'n/a' when not measured. */
export function formatNumber (value: number | null | undefined, digits = 1): string {
  if (value === null || value === undefined || !Number.isFinite(value)) return 'n/a'
  const fixed = Math.abs(value).toFixed(digits)
  const [whole, fraction] = fixed.split('.')
  const grouped = whole!.replace(/\B(?=(\d{3})+(?!\d))/g, ',')
  return `${value < 0 && Number(fixed) !== 0 ? '-' : ''}${grouped}${fraction === undefined ? '' : `.${fraction}`}`
}

export function formatValue (value: number | null | undefined, unit: string, digits = 1): string {
  const text = formatNumber(value, digits)
  return text === 'n/a' || unit === '' ? text : `${text} ${unit}`
}

export function goalStatus (goal: GoalResult | undefined): string {
  if (goal === undefined) return ''
  if (goal.met === null) return 'not measured'
  return goal.met ? 'met' : 'MISSED'
}

function loadText (phase: LoadAverages): string {
  const start = phase.load_avg_start[0]
  const end = phase.load_avg_end[0]
  return `${formatNumber(start, 2)} -> ${formatNumber(end, 2)}`
}

/** The rows of the table, phase by phase (phases that did not run are left out). */
export function tableRows (result: BenchResult): TableRow[] {
  const rows: TableRow[] = []
  const goals = new Map(result.goals.map((g) => [g.id, g]))
  const row = (phase: string, measurement: string, value: string, goalId?: string): void => {
    const goal = goalId === undefined ? undefined : goals.get(goalId)
    rows.push({ phase, measurement, value, goal: goal === undefined ? '' : goalText(goal), result: goalStatus(goal) })
  }
  const { health, instructions, login, ask, ingest, memory } = result
  if (health !== undefined) {
    row('health', `GET /health req/s, full stack (${health.connections} conn)`, formatNumber(health.rps, 0))
    row('health', 'GET /health req/s, bare node:http cluster', formatNumber(health.baseline_rps, 0))
    row('health', `ratio stack / bare node:http (median of ${health.rounds.length} rounds)`, formatNumber(health.ratio, 3))
    row('health', 'server CPU per request, stack / bare', `${formatNumber(health.stack_cpu_us_per_req, 1)} / ${formatNumber(health.baseline_cpu_us_per_req, 1)} us`)
    row('health', 'CPU ratio bare / stack (load-independent view)', formatNumber(health.cpu_ratio, 3))
    row('health', 'p99 latency, full stack', formatValue(health.p99_ms, 'ms', 2))
    row('health', 'p50 latency, full stack', formatValue(health.p50_ms, 'ms', 2))
    row('health', 'p99 latency, bare cluster', formatValue(health.baseline_p99_ms, 'ms', 2))
    row('health', 'bare Fastify cluster (same response, no plugins): req/s, p99', `${formatNumber(health.fastify_rps, 0)}, ${formatValue(health.fastify_p99_ms, 'ms', 2)}`)
    row('health', 'ratio bare Fastify / bare node:http: req/s, CPU', `${formatNumber(health.fastify_ratio, 3)}, ${formatNumber(health.fastify_cpu_ratio, 3)}`)
    row('health', 'ratio stack / bare Fastify req/s (cost of our plugins)', formatNumber(health.stack_over_fastify, 3), 'health.stack_over_fastify')
    row('health', 'ratio stack / bare Fastify p99', formatNumber(health.p99_over_fastify, 3), 'health.p99_over_fastify')
    row('health', 'stack without metrics: req/s, p99, CPU per request', `${formatNumber(health.no_metrics_rps, 0)}, ${formatValue(health.no_metrics_p99_ms, 'ms', 2)}, ${formatNumber(health.no_metrics_cpu_us_per_req, 1)} us`)
    row('health', 'metrics cost: 1 - req/s with / without metrics', formatNumber(health.metrics_cost, 3), 'health.metrics_cost')
    row('health', 'metrics cost: CPU per request with / without metrics - 1', formatNumber(health.metrics_cpu_cost, 3))
    row('health', 'response bytes, stack / bare', `${health.stack_response_bytes} / ${health.baseline_response_bytes}`)
    row('health', 'load avg 1 min, start -> end', loadText(health))
  }
  if (instructions !== undefined) {
    const ins = instructions
    row('instructions', `Ir per GET /health (callgrind, median of ${ins.app.samples.length} x ${ins.requests}), API process / bare Fastify`, `${formatNumber(ins.app_per_request, 0)} / ${formatNumber(ins.fastify_per_request, 0)}`)
    row('instructions', 'ratio API process / bare Fastify', formatNumber(ins.ratio, 3), 'instructions.ratio')
    row('instructions', 'Ir per GET /health, API process without metrics', `${formatNumber(ins.app_no_metrics_per_request, 0)} (metrics ${formatNumber(ins.metrics_cost * 100, 1)} %)`)
    row('instructions', 'load avg 1 min, start -> end', loadText(ins))
  }
  if (login !== undefined) {
    const b = login.bcrypt
    row('login', `bcrypt.compare/s, cost ${b.cost}, ${b.workers} procs x ${b.parallel_per_worker} parallel`, formatNumber(b.ceiling_rps, 2))
    row('login', `bcrypt.compare/s, 1 process x ${b.parallel_per_worker} (x ${b.workers} = naive)`, `${formatNumber(b.single_process_rps, 2)} (${formatNumber(b.naive_ceiling_rps, 2)})`)
    row('login', `POST /auth/login req/s (${login.connections} conn, ${login.users} users)`, formatNumber(login.rps, 2))
    row('login', 'ratio login / bcrypt ceiling', formatNumber(login.ratio, 3), 'login.ratio')
    row('login', 'ratio login / naive ceiling (reference)', formatNumber(login.ratio_naive, 3))
    row('login', 'p50 / p99 latency', `${formatValue(login.p50_ms, 'ms', 0)} / ${formatValue(login.p99_ms, 'ms', 0)}`)
    row('login', 'p99 / p50 (fairness under saturation)', formatNumber(login.p99_over_p50, 2))
    row('login', 'CPU per login (API workers) / per bcrypt.compare', `${formatValue(login.load.cpu_ms_per_req, 'ms', 1)} / ${formatValue(b.cpu_ms_per_compare, 'ms', 1)}`)
    row('login', 'CPU ratio bcrypt / login (load-independent view)', formatNumber(login.cpu_ratio, 3))
    row('login', 'load avg 1 min, start -> end', loadText(login))
  }
  if (ask !== undefined) {
    row('ask', `POST /ask p50 / p95 / p99 (${ask.connections} conn, L = ${ask.llm_latency_ms} ms)`,
      `${formatNumber(ask.p50_ms, 0)} / ${formatNumber(ask.p95_ms, 0)} / ${formatNumber(ask.p99_ms, 0)} ms`)
    row('ask', 'p95 / L', formatNumber(ask.p95_over_latency, 3), 'ask.p95_over_latency')
    row('ask', 'p95 / L without the initial burst (each conn.\'s 1st request)', formatNumber(ask.p95_over_latency_after_first, 3))
    row('ask', 'req/s, LLM calls, non-2xx + errors', `${formatNumber(ask.rps, 1)}, ${ask.llm_calls}, ${ask.load.responses - ask.load.ok + ask.load.errors}`)
    row('ask', 'API worker CPU per request, cores busy', `${formatValue(ask.load.cpu_ms_per_req, 'ms', 2)}, ${formatNumber(ask.load.server_cores, 2)}`)
    const by = ask.load.cpu_ms_per_req_by_process
    if (by !== undefined) {
      row('ask', 'CPU ms per request: postgres / groq-mock / autocannon', `${formatNumber(by.postgres, 2)} / ${formatNumber(by.bench, 2)} / ${formatNumber(by.load_generator, 2)}`)
    }
    row('ask', 'load avg 1 min, start -> end', loadText(ask))
  }
  if (ingest !== undefined) {
    row('ingest', `GET /health p99, idle (${ingest.probe_connections} conn, ${ingest.probe_rate_rps} req/s)`, formatValue(ingest.health_p99_idle_ms, 'ms', 2))
    row('ingest', `GET /health p99 during upload of ${formatNumber(ingest.pdf_bytes / 1e6, 1)} MB, ${ingest.pdf_pages} pages`, formatValue(ingest.health_p99_ms, 'ms', 2), 'ingest.health_p99_ms')
    row('ingest', 'POST /upload time / pdf-parse alone', `${formatValue(ingest.upload_ms, 'ms', 0)} / ${formatValue(ingest.pdf_parse_ms, 'ms', 0)}`)
    row('ingest', 'ratio pdf-parse alone / upload', formatNumber(ingest.ratio, 3), 'ingest.ratio')
    row('ingest', 'load avg 1 min, start -> end', loadText(ingest))
  }
  if (memory !== undefined) {
    row('memory', `RSS per worker, right after boot (${memory.boot.map((w) => formatNumber(w.rss_mb, 0)).join(' / ')})`, formatValue(memory.boot_rss_mb, 'MB', 1))
    row('memory', `RSS per worker, idle ${memory.idle_after_s} s after boot${memory.idle_settled ? '' : ', NOT settled'} (${memory.idle.map((w) => formatNumber(w.rss_mb, 0)).join(' / ')})`,
      formatValue(memory.idle_rss_mb, 'MB', 1), 'memory.idle_rss_mb')
    row('memory', `RSS per worker, after load (${memory.after_load.map((w) => formatNumber(w.rss_mb, 0)).join(' / ')})`, formatValue(memory.after_load_rss_mb, 'MB', 1))
    row('memory', 'RSS of the launcher (PM2 God), idle / after', `${formatValue(memory.launcher_idle_rss_mb, 'MB', 0)} / ${formatValue(memory.launcher_after_load_rss_mb, 'MB', 0)}`)
  }
  return rows
}

export function renderTable (rows: readonly TableRow[]): string {
  const header: TableRow = { phase: 'phase', measurement: 'measurement', value: 'value', goal: 'goal', result: 'result' }
  const columns = ['phase', 'measurement', 'value', 'goal', 'result'] as const
  const widths = columns.map((c) => Math.max(header[c].length, ...rows.map((r) => r[c].length)))
  const line = (r: TableRow): string => columns.map((c, i) => (c === 'value' ? r[c].padStart(widths[i]!) : r[c].padEnd(widths[i]!))).join('  ').trimEnd()
  const rule = widths.map((w) => '-'.repeat(w)).join('  ')
  return [line(header), rule, ...rows.map(line)].join('\n')
}

/** The whole report: context lines, the table, the goals summary and any warnings. */
export function renderReport (result: BenchResult): string {
  const m = result.machine
  const c = result.config
  const met = result.goals.filter((g) => g.met === true).length
  const measured = result.goals.filter((g) => g.met !== null).length
  const lines = [
    `DocuMind Voice bench, ${result.mode} run (${formatNumber(result.duration_s, 0)} s): ${c.workers} PM2 workers, bcrypt cost ${c.bcrypt_cost}, ` +
      `UV_THREADPOOL_SIZE ${c.uv_threadpool_size}, ${c.store} store, ${c.database} database, L = ${c.llm_latency_ms} ms`,
    `Machine: ${m.cpus} x ${m.cpu_model}, ${formatNumber(m.total_mem_mb / 1024, 1)} GiB, Node ${m.node}; ` +
      `load avg (1/5/15 min) ${m.load_avg_start.map((v) => v.toFixed(2)).join(' ')} at start, ${m.load_avg_end.map((v) => v.toFixed(2)).join(' ')} at end`,
    '',
    renderTable(tableRows(result)),
    '',
    `Goals met: ${met} of ${measured} measured (${GOALS.length} in total).`
  ]
  for (const warning of result.warnings) lines.push(`warning: ${warning}`)
  return lines.join('\n') + '\n'
}

/** JSON with non-finite numbers as null. */
export function toJson (result: BenchResult): string {
  return JSON.stringify(result, (_key, value: unknown) => (typeof value === 'number' && !Number.isFinite(value) ? null : value), 2) + '\n'
}

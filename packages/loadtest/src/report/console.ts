import type { Criterion } from '../grades.js'
import type { Check, ScenarioName, ScenarioResult } from '../model.js'
import type { Progress } from '../runner.js'
import { formatBytes, formatDurationMs, formatMs } from '../units.js'
import type { Report } from './types.js'

const RULE = '='.repeat(72)
const pct = (part: number, whole: number): string => whole === 0 ? '0.0%' : `${((part / whole) * 100).toFixed(1)}%`
const STATUS_TAG: Record<Check['status'], string> = { pass: '[PASS]', fail: '[FAIL]', warn: '[WARN]', skip: '[SKIP]' }

export function renderCheck (c: Check): string {
  return `${STATUS_TAG[c.status]} ${c.name}: ${c.detail}`
}

function codes (statusCodes: Record<string, number>, errors: number): string {
  const parts = Object.entries(statusCodes).map(([code, n]) => `${code} x ${n}`)
  if (errors > 0) parts.push(`no answer x ${errors}`)
  return parts.length === 0 ? 'none' : parts.join(', ')
}

export function renderScenario (r: ScenarioResult, index: number): string {
  const lines: string[] = []
  const settings = Object.entries(r.settings).map(([k, v]) => `${k} ${k === 'sizeBytes' && typeof v === 'number' ? formatBytes(v) : String(v)}`).join(', ')
  lines.push('', `[TEST ${index}] ${r.title}${settings === '' ? '' : ` (${settings})`}`, RULE)
  lines.push(`  ${r.description}`)
  for (const n of r.notes) lines.push(`  note: ${n}`)
  if (r.setupMs > 0) lines.push(`  setup: ${formatDurationMs(r.setupMs)} (not measured)`)
  lines.push('', '  Results:')
  lines.push(`    Total requests: ${r.total}`)
  lines.push(`    Successful: ${r.successful} (${pct(r.successful, r.total)})` +
    (r.rateLimitedExpected + r.expectedRejections > 0 ? `  incl. ${r.rateLimitedExpected} expected 429 and ${r.expectedRejections} expected 401/403/413` : ''))
  lines.push(`    Failed: ${r.failed} (${pct(r.failed, r.total)})`)
  lines.push(`    Rate limited (429): ${r.rateLimited} (${pct(r.rateLimited, r.total)})${r.rateLimited > 0 ? (r.rateLimited === r.rateLimitedExpected ? '  [EXPECTED]' : `  [${r.rateLimited - r.rateLimitedExpected} UNEXPECTED]`) : ''}`)
  lines.push(`    No answer (errors/timeouts): ${r.errors}${r.timeouts > 0 ? ` (${r.timeouts} timeouts)` : ''}${r.unfinished > 0 ? `; ${r.unfinished} in flight at the end, not counted` : ''}`)
  lines.push(`    Status codes: ${codes(r.statusCodes, r.errors)}`)
  lines.push(`    Total time: ${formatDurationMs(r.durationMs)}`)
  lines.push(`    Requests/second: ${r.rps.toFixed(2)}`)
  if (r.latency.count > 0) {
    lines.push('', '  Response times:')
    lines.push(`    Average: ${formatMs(r.latency.avg)}   Median: ${formatMs(r.latency.p50)}   Min: ${formatMs(r.latency.min)}   Max: ${formatMs(r.latency.max)}`)
    lines.push(`    P95: ${formatMs(r.latency.p95)}   P99: ${formatMs(r.latency.p99)}`)
  }
  const ops = Object.entries(r.operations)
  if (ops.length > 1) {
    lines.push('', '  By operation:')
    const w = Math.max(...ops.map(([name]) => name.length))
    for (const [name, o] of ops) {
      lines.push(`    ${name.padEnd(w)}  ${String(o.total).padStart(5)} req  ${pct(o.successful, o.total).padStart(6)} ok  ` +
        `p50 ${formatMs(o.latency.p50).padStart(8)}  p95 ${formatMs(o.latency.p95).padStart(8)}  ${codes(o.statusCodes, o.total - Object.values(o.statusCodes).reduce((a, b) => a + b, 0))}`)
    }
  }
  lines.push(...serverLines(r))
  lines.push('', '  Checks:')
  for (const c of r.checks) lines.push(`    ${renderCheck(c)}`)
  return lines.join('\n')
}

/** The server's side of a scenario: the "where the time went" line, then its routes. */
function serverLines (r: ScenarioResult): string[] {
  const b = r.server
  if (b === undefined) return []
  if (!b.available) return ['', `  Where the time went: server metrics unavailable (${b.reason})`]
  const lines = ['', '  Where the time went (server, from /metrics):', `    ${b.line}`]
  if (b.peaks.pgPoolWaitingClients > 0 || b.peaks.ingestionQueueDepth > 0) {
    lines.push(`    peaks: ${b.peaks.pgPoolWaitingClients} clients waiting for a PostgreSQL connection, ${b.peaks.ingestionQueueDepth} PDF extractions running or queued`)
  }
  const w = Math.max(...b.routes.map((x) => x.route.length), 5)
  for (const x of b.routes) {
    lines.push(`    ${x.route.padEnd(w)}  server ${String(x.requests).padStart(5)} req ${String(x.rateLimited).padStart(4)} x 429  ` +
      `p50 ${formatMs(x.p50Ms ?? Number.NaN).padStart(8)}  p95 ${formatMs(x.p95Ms ?? Number.NaN).padStart(8)}   client ${x.clientRequests} req ${x.clientRateLimited} x 429`)
  }
  return lines
}

function criteria (title: string, list: readonly Criterion[]): string[] {
  const out = [title]
  for (const c of list) out.push(`  ${c.ok ? '[PASS]' : '[FAIL]'} ${c.name} ${c.target}: ${c.actual}`)
  return out
}

const scenarios0 = (report: Report): boolean => Object.keys(report.scenarios).length === 0

export function renderSummary (report: Report): string {
  const { overall, summary } = report
  const lines: string[] = ['', RULE, 'LOAD TEST SUMMARY', RULE]
  lines.push(`Mode: ${report.mode === 'local' ? 'LOCAL STACK' : 'TARGET'} - ${report.modeDescription}`)
  lines.push(`Client addresses: ${report.xff.mode}${report.xff.honoured === null ? '' : ` (X-Forwarded-For ${report.xff.honoured ? 'honoured' : 'ignored'})`}`)
  const m = report.machine
  lines.push(`Machine: ${m.cores} cores (${m.cpuModel}), ${formatBytes(m.memoryBytes)} RAM, Node ${m.node}, ${m.platform}/${m.arch}` +
    (report.mode === 'local' ? ' - the load generator shares this machine with the API' : ''))
  lines.push(`Started: ${report.startedAt}   Wall time: ${formatDurationMs(report.wallMs)}`)
  if (scenarios0(report)) {
    lines.push('', 'No scenario ran.')
    for (const n of report.notes) lines.push(`note: ${n}`)
    for (const c of report.checks) lines.push(`  ${renderCheck(c)}`)
    lines.push('', report.aborted ? 'RESULT: ABORTED' : 'RESULT: FAIL', RULE)
    return lines.join('\n')
  }
  lines.push('')
  lines.push(`Total Requests: ${overall.total}`)
  const scenarios = Object.values(report.scenarios)
  for (const r of scenarios) lines.push(`  ${r.name}: ${r.total}`)
  lines.push('')
  lines.push(`Overall Success Rate: ${overall.successRate.toFixed(1)}%  (${overall.successful} of ${overall.total}; ` +
    `${overall.rateLimitedExpected} expected 429 and ${overall.expectedRejections} expected 401/403/413 count as successful)`)
  lines.push(`  Error rate: ${overall.errorRate.toFixed(1)}%   Rate limited (429): ${overall.rateLimited}   No answer: ${overall.errors}   5xx: ${overall.http5xx}`)
  lines.push(`  Status: [${summary.successGrade.grade === 'POOR' || summary.successGrade.grade === 'FAIR' ? 'WARN' : 'OK'}] ${summary.successGrade.grade} - ${summary.successGrade.message}`)
  lines.push('')
  lines.push('Response Time Performance:')
  lines.push(`  Average: ${formatMs(overall.latency.avg)}   Median: ${formatMs(overall.latency.p50)}   P95: ${formatMs(overall.latency.p95)}   P99: ${formatMs(overall.latency.p99)}   Max: ${formatMs(overall.latency.max)}`)
  lines.push(`  Status: [${summary.latencyGrade.grade === 'SLOW' ? 'WARN' : 'OK'}] ${summary.latencyGrade.grade} - ${summary.latencyGrade.message}`)
  lines.push(`  Throughput: ${overall.rps.toFixed(1)} req/s (scenarios not paced by --rate; ${overall.rpsAll.toFixed(1)} req/s with all)`)
  lines.push('')
  lines.push('Per scenario:')
  lines.push(`  ${'scenario'.padEnd(10)} ${'total'.padStart(6)} ${'success'.padStart(8)} ${'429'.padStart(5)} ${'fail'.padStart(5)} ${'avg'.padStart(9)} ${'p95'.padStart(9)} ${'p99'.padStart(9)} ${'req/s'.padStart(8)}  grades`)
  for (const r of scenarios) {
    const sg = r.total === 0 ? '-' : r.successRate >= 95 ? 'EXCELLENT' : r.successRate >= 85 ? 'GOOD' : r.successRate >= 70 ? 'FAIR' : 'POOR'
    const lg = r.latency.count === 0 ? '-' : r.latency.p95 < 2000 ? 'EXCELLENT' : r.latency.p95 < 3000 ? 'GOOD' : 'SLOW'
    lines.push(`  ${r.name.padEnd(10)} ${String(r.total).padStart(6)} ${`${r.successRate.toFixed(1)}%`.padStart(8)} ${String(r.rateLimited).padStart(5)} ${String(r.failed).padStart(5)} ` +
      `${formatMs(r.latency.avg).padStart(9)} ${formatMs(r.latency.p95).padStart(9)} ${formatMs(r.latency.p99).padStart(9)} ${r.rps.toFixed(1).padStart(8)}  ${sg}/${lg}`)
  }
  const server = scenarios.filter((r) => r.server !== undefined)
  const reasons = new Set(server.map((r) => r.server!.available ? '' : r.server!.reason))
  if (server.length > 0 && !reasons.has('') && reasons.size === 1) {
    lines.push('', `Where the time went: server metrics unavailable (${[...reasons][0]!})`)
  } else if (server.length > 0) {
    lines.push('')
    lines.push('Where the time went (server side, from /metrics):')
    for (const r of server) lines.push(`  ${r.server!.available ? r.server!.line : `${r.name}: server metrics unavailable (${r.server!.reason})`}`)
  }
  lines.push('')
  lines.push(...criteria('Production Ready Criteria (95/100):', summary.productionReady.criteria))
  lines.push(...criteria('Excellent Performance (100/100):', summary.excellent.criteria))
  lines.push(...criteria('Success Criteria Summary (production-ready if):', summary.successCriteria))
  lines.push('')
  lines.push(`Verdict: ${summary.verdict}`)
  for (const n of report.notes) lines.push(`note: ${n}`)
  lines.push('')
  const counts = { pass: 0, fail: 0, warn: 0, skip: 0 }
  for (const c of report.checks) counts[c.status]++
  lines.push(`Checks: ${counts.pass} passed, ${counts.fail} failed, ${counts.warn} warnings, ${counts.skip} skipped`)
  for (const c of report.checks) if (c.status === 'fail' || c.status === 'warn' || c.scenario === undefined) lines.push(`  ${renderCheck(c)}`)
  if (report.error !== null) lines.push(`Error: ${report.error}`)
  lines.push('')
  lines.push(report.aborted
    ? 'RESULT: ABORTED'
    : report.ok ? 'RESULT: PASS (every check passed)' : 'RESULT: FAIL (see the failed checks above)')
  lines.push(RULE)
  return lines.join('\n')
}

/** A single updating line on a TTY; a line every few seconds otherwise. */
export class ProgressPrinter {
  private shown = false
  private lastPrinted = 0

  constructor (private readonly stream: NodeJS.WriteStream, private readonly tty: boolean, private readonly quiet: boolean, private readonly everyMs = 5000) {}

  static text (name: ScenarioName, p: Progress): string {
    const secs = p.elapsedMs / 1000
    const rate = secs > 0 ? p.done / secs : 0
    const planned = p.planned.requests !== undefined
      ? `${p.done}/${p.planned.requests} requests`
      : `${p.done} requests, ${Math.min(secs, (p.planned.durationMs ?? 0) / 1000).toFixed(0)}/${((p.planned.durationMs ?? 0) / 1000).toFixed(0)} s`
    return `  [${name}] ${planned} | ${secs.toFixed(1)} s | ${rate.toFixed(1)} req/s | ${p.failed} failed | ${p.rateLimited} x 429`
  }

  update (name: ScenarioName, p: Progress): void {
    if (this.quiet) return
    const text = ProgressPrinter.text(name, p)
    if (this.tty) {
      const width = (this.stream.columns ?? 100) - 1
      this.stream.write(`\r\x1b[2K${text.slice(0, width)}`)
      this.shown = true
    } else if (p.elapsedMs - this.lastPrinted >= this.everyMs || this.lastPrinted > p.elapsedMs) {
      this.lastPrinted = p.elapsedMs
      this.stream.write(`${text}\n`)
    }
  }

  /** Removes the live line before other output. */
  clear (): void {
    if (this.tty && this.shown) {
      this.stream.write('\r\x1b[2K')
      this.shown = false
    }
    this.lastPrinted = 0
  }
}

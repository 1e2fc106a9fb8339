// One self-contained HTML file: inline CSS and inline SVG charts drawn here. No script, no
// external stylesheet, font, image or link, so it opens offline and can be attached to a ticket.
import type { Criterion } from '../grades.js'
import type { Check, ScenarioResult } from '../model.js'
import type { HistogramBin, TimelineBucket } from '../stats.js'
import { formatBytes, formatDurationMs, formatMs } from '../units.js'
import { serverSection } from './server-html.js'
import type { Report } from './types.js'

export function escapeHtml (text: string): string {
  return text.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;').replace(/"/g, '&quot;').replace(/'/g, '&#39;')
}

const W = 560
const H = 220
const M = { top: 16, right: 12, bottom: 40, left: 52 }

function niceMax (v: number): number {
  if (v <= 0) return 1
  const p = 10 ** Math.floor(Math.log10(v))
  for (const m of [1, 2, 2.5, 5, 10]) if (m * p >= v) return m * p
  return 10 * p
}

function axes (yMax: number, yLabel: string, xLabels: Array<{ x: number, text: string }>, xTitle: string): string {
  const plotH = H - M.top - M.bottom
  const parts: string[] = []
  for (let i = 0; i <= 4; i++) {
    const y = M.top + plotH - (plotH * i) / 4
    const value = (yMax * i) / 4
    parts.push(`<line x1="${M.left}" x2="${W - M.right}" y1="${y.toFixed(1)}" y2="${y.toFixed(1)}" class="grid"/>`)
    parts.push(`<text x="${M.left - 6}" y="${(y + 4).toFixed(1)}" text-anchor="end" class="tick">${escapeHtml(Number.isInteger(value) ? String(value) : value.toFixed(1))}</text>`)
  }
  xLabels.forEach((l, i) => {
    const anchor = i === 0 ? 'start' : i === xLabels.length - 1 ? 'end' : 'middle'
    parts.push(`<text x="${l.x.toFixed(1)}" y="${H - M.bottom + 14}" text-anchor="${anchor}" class="tick">${escapeHtml(l.text)}</text>`)
  })
  parts.push(`<text x="${(M.left + W - M.right) / 2}" y="${H - 6}" text-anchor="middle" class="axis">${escapeHtml(xTitle)}</text>`)
  parts.push(`<text x="12" y="${M.top + plotH / 2}" text-anchor="middle" class="axis" transform="rotate(-90 12 ${M.top + plotH / 2})">${escapeHtml(yLabel)}</text>`)
  return parts.join('')
}

function svg (title: string, body: string): string {
  return `<svg viewBox="0 0 ${W} ${H}" width="${W}" height="${H}" role="img" aria-label="${escapeHtml(title)}"><title>${escapeHtml(title)}</title>${body}</svg>`
}

function empty (title: string): string {
  return svg(title, `<text x="${W / 2}" y="${H / 2}" text-anchor="middle" class="axis">no data</text>`)
}

/** Latency distribution: one bar per equal-width bin. */
export function histogramSvg (bins: readonly HistogramBin[], title = 'Latency distribution'): string {
  if (bins.length === 0) return empty(title)
  const plotW = W - M.left - M.right
  const plotH = H - M.top - M.bottom
  const yMax = niceMax(Math.max(...bins.map((b) => b.count)))
  const bw = plotW / bins.length
  const bars = bins.map((b, i) => {
    const h = (b.count / yMax) * plotH
    return `<rect x="${(M.left + i * bw + 0.5).toFixed(1)}" y="${(M.top + plotH - h).toFixed(1)}" width="${Math.max(0.5, bw - 1).toFixed(1)}" height="${h.toFixed(1)}" class="bar"><title>${escapeHtml(`${formatMs(b.from)} - ${formatMs(b.to)}: ${b.count}`)}</title></rect>`
  }).join('')
  const first = bins[0]!
  const last = bins[bins.length - 1]!
  const mid = bins[Math.floor(bins.length / 2)]!
  const labels = [
    { x: M.left, text: formatMs(first.from) },
    { x: M.left + plotW / 2, text: formatMs(mid.from) },
    { x: W - M.right, text: formatMs(last.to) }
  ]
  return svg(title, axes(yMax, 'requests', labels, 'response time') + bars)
}

/** Completed requests per 1-second bucket; failed ones stacked in red, 429s in amber. */
export function timelineSvg (buckets: readonly TimelineBucket[], title = 'Requests per second'): string {
  if (buckets.length === 0 || buckets.every((b) => b.count === 0)) return empty(title)
  const plotW = W - M.left - M.right
  const plotH = H - M.top - M.bottom
  const yMax = niceMax(Math.max(...buckets.map((b) => b.count)))
  const bw = plotW / buckets.length
  const bars = buckets.map((b, i) => {
    const x = (M.left + i * bw + 0.5).toFixed(1)
    const w = Math.max(0.5, bw - 1).toFixed(1)
    const hAll = (b.count / yMax) * plotH
    const hFail = (b.failed / yMax) * plotH
    const hLimited = (Math.max(0, b.rateLimited) / yMax) * plotH
    const base = M.top + plotH
    const tip = `<title>${escapeHtml(`${b.second}-${b.second + 1} s: ${b.count} requests, ${b.failed} failed, ${b.rateLimited} x 429`)}</title>`
    return `<rect x="${x}" y="${(base - hAll).toFixed(1)}" width="${w}" height="${hAll.toFixed(1)}" class="bar">${tip}</rect>` +
      (hLimited > 0 ? `<rect x="${x}" y="${(base - hLimited).toFixed(1)}" width="${w}" height="${hLimited.toFixed(1)}" class="limited">${tip}</rect>` : '') +
      (hFail > 0 ? `<rect x="${x}" y="${(base - hFail).toFixed(1)}" width="${w}" height="${hFail.toFixed(1)}" class="fail">${tip}</rect>` : '')
  }).join('')
  const lastSecond = buckets[buckets.length - 1]!.second + 1
  const labels = [{ x: M.left, text: '0 s' }, { x: M.left + plotW / 2, text: `${(lastSecond / 2).toFixed(lastSecond % 2 === 0 ? 0 : 1)} s` }, { x: W - M.right, text: `${lastSecond} s` }]
  return svg(title, axes(yMax, 'requests / s', labels, 'time since the scenario started (1 s buckets)') + bars)
}

/** Horizontal bars, one per status code. */
export function statusSvg (statusCodes: Record<string, number>, errors: number, title = 'Status codes'): string {
  const entries = Object.entries(statusCodes).map(([code, n]) => ({ label: code, n }))
  if (errors > 0) entries.push({ label: 'no answer', n: errors })
  if (entries.length === 0) return empty(title)
  const rowH = 26
  const height = Math.max(60, entries.length * rowH + 24)
  const max = Math.max(...entries.map((e) => e.n))
  const left = 80
  const plotW = W - left - 70
  const rows = entries.map((e, i) => {
    const code = Number(e.label)
    const cls = Number.isNaN(code) || code >= 500 ? 'fail' : code === 429 ? 'limited' : code >= 400 ? 'warn' : 'bar'
    const w = (e.n / max) * plotW
    const y = 12 + i * rowH
    return `<text x="${left - 8}" y="${y + 15}" text-anchor="end" class="tick">${escapeHtml(e.label)}</text>` +
      `<rect x="${left}" y="${y}" width="${Math.max(1, w).toFixed(1)}" height="${rowH - 8}" class="${cls}"/>` +
      `<text x="${(left + w + 6).toFixed(1)}" y="${y + 15}" class="tick">${e.n}</text>`
  }).join('')
  return `<svg viewBox="0 0 ${W} ${height}" width="${W}" height="${height}" role="img" aria-label="${escapeHtml(title)}"><title>${escapeHtml(title)}</title>${rows}</svg>`
}

const STATUS_CLASS: Record<Check['status'], string> = { pass: 'pass', fail: 'failc', warn: 'warnc', skip: 'skip' }

function checksTable (checks: readonly Check[]): string {
  if (checks.length === 0) return '<p class="muted">No checks.</p>'
  const rows = checks.map((c) => `<tr><td class="${STATUS_CLASS[c.status]}">${c.status.toUpperCase()}</td><td>${escapeHtml(c.name)}</td><td><pre>${escapeHtml(c.detail)}</pre></td></tr>`).join('')
  return `<table class="checks"><thead><tr><th>Status</th><th>Check</th><th>Detail</th></tr></thead><tbody>${rows}</tbody></table>`
}

function criteriaTable (title: string, list: readonly Criterion[]): string {
  const rows = list.map((c) => `<tr><td class="${c.ok ? 'pass' : 'failc'}">${c.ok ? 'PASS' : 'FAIL'}</td><td>${escapeHtml(c.name)}</td><td>${escapeHtml(c.target)}</td><td>${escapeHtml(c.actual)}</td></tr>`).join('')
  return `<h3>${escapeHtml(title)}</h3><table><thead><tr><th></th><th>Criterion</th><th>Target</th><th>Actual</th></tr></thead><tbody>${rows}</tbody></table>`
}

function scenarioSection (r: ScenarioResult, index: number): string {
  const kv = (k: string, v: string): string => `<tr><th>${escapeHtml(k)}</th><td>${escapeHtml(v)}</td></tr>`
  const ops = Object.entries(r.operations).map(([name, o]) =>
    `<tr><td>${escapeHtml(name)}</td><td>${o.total}</td><td>${o.successful}</td><td>${o.failed}</td><td>${o.rateLimited}</td><td>${formatMs(o.latency.p50)}</td><td>${formatMs(o.latency.p95)}</td><td>${escapeHtml(Object.entries(o.statusCodes).map(([c, n]) => `${c}x${n}`).join(' '))}</td></tr>`).join('')
  const settings = Object.entries(r.settings).map(([k, v]) => `${k}: ${k === 'sizeBytes' && typeof v === 'number' ? formatBytes(v) : String(v)}`).join(', ')
  return `<section id="scenario-${r.name}">
<h2>${index}. ${escapeHtml(r.title)} <small>(${escapeHtml(r.name)})</small></h2>
<p>${escapeHtml(r.description)}</p>
${settings === '' ? '' : `<p class="muted">${escapeHtml(settings)}</p>`}
${r.notes.length === 0 ? '' : `<ul class="notes">${r.notes.map((n) => `<li>${escapeHtml(n)}</li>`).join('')}</ul>`}
<div class="grid2">
<table class="kv">
${kv('Total requests', String(r.total))}
${kv('Successful', `${r.successful} (${r.successRate.toFixed(1)}%)`)}
${kv('Failed', `${r.failed} (${r.errorRate.toFixed(1)}%)`)}
${kv('Rate limited (429)', `${r.rateLimited} (${r.rateLimitedExpected} expected)`)}
${kv('Expected 401/403/413', String(r.expectedRejections))}
${kv('No answer', `${r.errors} (${r.timeouts} timeouts)`)}
${kv('Total time', formatDurationMs(r.durationMs))}
${kv('Requests/second', r.rps.toFixed(2))}
${kv('Latency avg / median', `${formatMs(r.latency.avg)} / ${formatMs(r.latency.p50)}`)}
${kv('Latency min / max', `${formatMs(r.latency.min)} / ${formatMs(r.latency.max)}`)}
${kv('Latency P95 / P99', `${formatMs(r.latency.p95)} / ${formatMs(r.latency.p99)}`)}
${kv('Setup (not measured)', formatDurationMs(r.setupMs))}
</table>
<figure><figcaption>Status codes</figcaption>${statusSvg(r.statusCodes, r.errors, `${r.name}: status codes`)}</figure>
</div>
<div class="grid2">
<figure><figcaption>Latency distribution</figcaption>${histogramSvg(r.histogram, `${r.name}: latency distribution`)}</figure>
<figure><figcaption>Requests per second (1 s buckets; red failed, amber 429)</figcaption>${timelineSvg(r.timeline, `${r.name}: requests per second`)}</figure>
</div>
${serverSection(r)}
${ops === '' ? '' : `<table><thead><tr><th>Operation</th><th>Total</th><th>OK</th><th>Failed</th><th>429</th><th>P50</th><th>P95</th><th>Status codes</th></tr></thead><tbody>${ops}</tbody></table>`}
<h3>Checks</h3>
${checksTable(r.checks)}
</section>`
}

const CSS = `
body{font:14px/1.45 system-ui,-apple-system,"Segoe UI",Roboto,sans-serif;margin:0;padding:24px;color:#1d2330;background:#f6f7f9}
main{max-width:1200px;margin:0 auto}
h1{margin:0 0 4px}h2{margin-top:40px;border-bottom:2px solid #d5d9e0;padding-bottom:4px}h2 small{color:#6b7280;font-weight:normal}
section,.card{background:#fff;border:1px solid #e1e4ea;border-radius:8px;padding:16px 20px;margin:16px 0}
table{border-collapse:collapse;margin:8px 0;width:100%}th,td{border-bottom:1px solid #eceef2;padding:4px 8px;text-align:left;vertical-align:top}
th{background:#fafbfc;font-weight:600}.kv th{width:45%}
pre{margin:0;white-space:pre-wrap;font:12px/1.4 ui-monospace,Menlo,Consolas,monospace}
.grid2{display:grid;grid-template-columns:repeat(auto-fit,minmax(520px,1fr));gap:16px;align-items:start}
figure{margin:0}figcaption{font-weight:600;margin-bottom:4px}
svg{max-width:100%;height:auto;background:#fff}
svg .grid{stroke:#eceef2}svg .tick{font-size:11px;fill:#4b5563}svg .axis{font-size:12px;fill:#374151}
svg .bar{fill:#3b82f6}svg .fail{fill:#dc2626}svg .limited{fill:#f59e0b}svg .warn{fill:#8b5cf6}
.pass{color:#15803d;font-weight:700}.failc{color:#b91c1c;font-weight:700}.warnc{color:#b45309;font-weight:700}.skip{color:#6b7280}
.verdict{font-size:22px;font-weight:700}.ok{color:#15803d}.bad{color:#b91c1c}.muted{color:#6b7280}
.notes li{color:#374151}
.where{font-weight:600;background:#f3f4f6;border-left:4px solid #f59e0b;padding:6px 10px}
`

/** The whole report as one HTML document. */
export function renderHtml (report: Report): string {
  const scenarios = Object.values(report.scenarios)
  const o = report.overall
  const s = report.summary
  const m = report.machine
  const failed = report.checks.filter((c) => c.status === 'fail').length
  const warned = report.checks.filter((c) => c.status === 'warn').length
  const overviewRows = scenarios.map((r) =>
    `<tr><td><a href="#scenario-${r.name}">${escapeHtml(r.name)}</a></td><td>${r.total}</td><td>${r.successRate.toFixed(1)}%</td><td>${r.rateLimited}</td><td>${r.failed}</td><td>${formatMs(r.latency.avg)}</td><td>${formatMs(r.latency.p50)}</td><td>${formatMs(r.latency.p95)}</td><td>${formatMs(r.latency.p99)}</td><td>${r.rps.toFixed(1)}</td><td class="${r.checks.some((c) => c.status === 'fail') ? 'failc' : 'pass'}">${r.checks.some((c) => c.status === 'fail') ? 'FAIL' : 'PASS'}</td></tr>`).join('')
  const defs = Object.entries(report.definitions).map(([k, v]) => `<tr><th>${escapeHtml(k)}</th><td>${escapeHtml(v)}</td></tr>`).join('')
  return `<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>DocuMind Voice load test - ${escapeHtml(s.verdict)} - ${escapeHtml(report.startedAt)}</title>
<style>${CSS}</style>
</head>
<body>
<main>
<h1>DocuMind Voice load test</h1>
<p class="muted">${escapeHtml(report.startedAt)} &middot; ${escapeHtml(report.mode === 'local' ? 'LOCAL STACK' : 'TARGET')}: ${escapeHtml(report.modeDescription)}</p>
<div class="card">
<p class="verdict">Verdict: <span class="${s.verdict === 'NOT READY' ? 'bad' : 'ok'}">${escapeHtml(s.verdict)}</span>
&nbsp;&middot;&nbsp; Result: <span class="${report.ok ? 'ok' : 'bad'}">${report.aborted ? 'ABORTED' : report.ok ? 'PASS' : 'FAIL'}</span>
<small class="muted">(${failed} failed checks, ${warned} warnings, exit code ${report.exitCode})</small></p>
<table class="kv">
<tr><th>Client addresses</th><td>${escapeHtml(report.xff.mode)}${report.xff.honoured === null ? '' : ` (X-Forwarded-For ${report.xff.honoured ? 'honoured' : 'ignored'}: ${escapeHtml(report.xff.detail)})`}</td></tr>
<tr><th>Machine</th><td>${m.cores} cores (${escapeHtml(m.cpuModel)}), ${escapeHtml(formatBytes(m.memoryBytes))} RAM, Node ${escapeHtml(m.node)}, ${escapeHtml(m.platform)}/${escapeHtml(m.arch)}</td></tr>
${report.stack === null ? '' : `<tr><th>Local stack</th><td>${report.stack.workers} workers, ${escapeHtml(report.stack.database)}, limit store ${escapeHtml(report.stack.limitStore)}, groq-mock latency ${report.stack.llmLatencyMs} ms, ready in ${formatDurationMs(report.stack.readyMs)}</td></tr>`}
<tr><th>Total requests</th><td>${o.total} in ${formatDurationMs(o.durationMs)} of scenarios; ${o.rps.toFixed(1)} req/s without paced scenarios (${o.rpsAll.toFixed(1)} with); wall time ${formatDurationMs(report.wallMs)}</td></tr>
<tr><th>Overall success rate</th><td>${o.successRate.toFixed(1)}% &middot; ${escapeHtml(s.successGrade.grade)} - ${escapeHtml(s.successGrade.message)}</td></tr>
<tr><th>Error rate / 429 / no answer / 5xx</th><td>${o.errorRate.toFixed(1)}% / ${o.rateLimited} / ${o.errors} / ${o.http5xx}</td></tr>
<tr><th>Latency avg / median / P95 / P99 / max</th><td>${formatMs(o.latency.avg)} / ${formatMs(o.latency.p50)} / ${formatMs(o.latency.p95)} / ${formatMs(o.latency.p99)} / ${formatMs(o.latency.max)} &middot; ${escapeHtml(s.latencyGrade.grade)} - ${escapeHtml(s.latencyGrade.message)}</td></tr>
</table>
${report.notes.length === 0 ? '' : `<ul class="notes">${report.notes.map((n) => `<li>${escapeHtml(n)}</li>`).join('')}</ul>`}
${report.error === null ? '' : `<p class="failc">Error: ${escapeHtml(report.error)}</p>`}
</div>
<div class="card">
<h2>Scenarios</h2>
<table><thead><tr><th>Scenario</th><th>Total</th><th>Success</th><th>429</th><th>Failed</th><th>Avg</th><th>Median</th><th>P95</th><th>P99</th><th>req/s</th><th>Checks</th></tr></thead><tbody>${overviewRows}</tbody></table>
<div class="grid2">
<figure><figcaption>All requests: status codes</figcaption>${statusSvg(o.statusCodes, o.errors, 'all requests: status codes')}</figure>
</div>
</div>
<div class="card">
<h2>Summary</h2>
${criteriaTable('Production Ready Criteria (95/100)', s.productionReady.criteria)}
${criteriaTable('Excellent Performance (100/100)', s.excellent.criteria)}
${criteriaTable('Success criteria summary (production-ready if)', s.successCriteria)}
<h3>All checks</h3>
${checksTable(report.checks)}
</div>
${scenarios.map((r, i) => scenarioSection(r, i + 1)).join('\n')}
<div class="card">
<h2>Definitions</h2>
<table class="kv">${defs}</table>
</div>
</main>
</body>
</html>
`
}

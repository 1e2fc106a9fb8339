// The server's side of a scenario in the HTML report: where the time went, the routes as the
// server counted them, and two charts over the phase (client vs server P95, event-loop
// utilisation per worker). Inline SVG like the rest of the report: nothing to load.
import type { ServerBreakdown } from '../breakdown.js'
import type { ScenarioResult } from '../model.js'
import { formatMs } from '../units.js'
import { escapeHtml } from './html.js'

const W = 560
const H = 220
const M = { top: 16, right: 12, bottom: 40, left: 52 }
const PALETTE = ['#3b82f6', '#f59e0b', '#10b981', '#8b5cf6', '#ef4444', '#0ea5e9', '#84cc16', '#ec4899']

export interface Series {
  name: string
  color: string
  points: Array<{ x: number, y: number | null }>
}

function niceMax (v: number): number {
  if (!(v > 0)) return 1
  const p = 10 ** Math.floor(Math.log10(v))
  for (const m of [1, 2, 2.5, 5, 10]) if (m * p >= v) return m * p
  return 10 * p
}

/** Lines over time, one per series, with a dot on every point (a phase shorter than a second has one). */
export function lineChartSvg (series: readonly Series[], title: string, yLabel: string, yFormat: (v: number) => string, yMaxFixed?: number): string {
  const all = series.flatMap((s) => s.points.filter((p) => p.y !== null))
  const label = escapeHtml(title)
  if (all.length === 0) {
    return `<svg viewBox="0 0 ${W} ${H}" width="${W}" height="${H}" role="img" aria-label="${label}"><title>${label}</title><text x="${W / 2}" y="${H / 2}" text-anchor="middle" class="axis">no data</text></svg>`
  }
  const plotW = W - M.left - M.right
  const plotH = H - M.top - M.bottom - 18
  const xMax = Math.max(...series.flatMap((s) => s.points.map((p) => p.x)), 0.001)
  const yMax = yMaxFixed ?? niceMax(Math.max(...all.map((p) => p.y!)))
  const X = (x: number): number => M.left + (x / xMax) * plotW
  const Y = (y: number): number => M.top + 18 + plotH - (Math.min(y, yMax) / yMax) * plotH
  const parts: string[] = []
  for (let i = 0; i <= 4; i++) {
    const y = M.top + 18 + plotH - (plotH * i) / 4
    parts.push(`<line x1="${M.left}" x2="${W - M.right}" y1="${y.toFixed(1)}" y2="${y.toFixed(1)}" class="grid"/>`)
    parts.push(`<text x="${M.left - 6}" y="${(y + 4).toFixed(1)}" text-anchor="end" class="tick">${escapeHtml(yFormat((yMax * i) / 4))}</text>`)
  }
  parts.push(`<text x="${M.left}" y="${H - M.bottom + 14}" class="tick">0 s</text>`)
  parts.push(`<text x="${W - M.right}" y="${H - M.bottom + 14}" text-anchor="end" class="tick">${escapeHtml(`${xMax.toFixed(1)} s`)}</text>`)
  parts.push(`<text x="${(M.left + W - M.right) / 2}" y="${H - 6}" text-anchor="middle" class="axis">time since the measured requests began</text>`)
  parts.push(`<text x="12" y="${M.top + 18 + plotH / 2}" text-anchor="middle" class="axis" transform="rotate(-90 12 ${M.top + 18 + plotH / 2})">${escapeHtml(yLabel)}</text>`)
  series.forEach((s, i) => {
    const lx = M.left + i * 130
    parts.push(`<rect x="${lx}" y="${M.top - 8}" width="12" height="4" fill="${s.color}"/><text x="${lx + 16}" y="${M.top - 2}" class="tick">${escapeHtml(s.name)}</text>`)
    // A gap (no answer in that second) breaks the line.
    let d = ''
    let pen = false
    for (const p of s.points) {
      if (p.y === null) { pen = false; continue }
      d += `${pen ? 'L' : 'M'}${X(p.x).toFixed(1)} ${Y(p.y).toFixed(1)}`
      pen = true
    }
    if (d !== '') parts.push(`<path d="${d}" fill="none" stroke="${s.color}" stroke-width="2" class="series"/>`)
    for (const p of s.points) {
      if (p.y === null) continue
      parts.push(`<circle cx="${X(p.x).toFixed(1)}" cy="${Y(p.y).toFixed(1)}" r="2.5" fill="${s.color}"><title>${escapeHtml(`${s.name} at ${p.x.toFixed(1)} s: ${yFormat(p.y)}`)}</title></circle>`)
    }
  })
  return `<svg viewBox="0 0 ${W} ${H}" width="${W}" height="${H}" role="img" aria-label="${label}"><title>${label}</title>${parts.join('')}</svg>`
}

/** The mean request's server time as one stacked bar, a segment per measured part. */
export function splitSvg (b: ServerBreakdown, title: string): string {
  const parts = b.split.filter((p) => p.seconds > 0)
  const label = escapeHtml(title)
  const height = 44 + Math.ceil(parts.length / 2) * 18
  if (parts.length === 0) return `<svg viewBox="0 0 ${W} ${height}" width="${W}" height="${height}" role="img" aria-label="${label}"><title>${label}</title><text x="${W / 2}" y="24" text-anchor="middle" class="axis">no server time recorded</text></svg>`
  const total = parts.reduce((a, p) => a + p.seconds, 0)
  const plotW = W - 24
  let x = 12
  const out: string[] = []
  parts.forEach((p, i) => {
    const w = (p.seconds / total) * plotW
    const color = p.key === 'other' ? '#9ca3af' : PALETTE[i % PALETTE.length]!
    out.push(`<rect x="${x.toFixed(1)}" y="8" width="${Math.max(0.5, w).toFixed(1)}" height="22" fill="${color}" class="part"><title>${escapeHtml(`${p.label}: ${formatMs(p.perRequestMs)} per request (${p.share}%)`)}</title></rect>`)
    x += w
    const lx = 12 + (i % 2) * 270
    const ly = 46 + Math.floor(i / 2) * 18
    out.push(`<rect x="${lx}" y="${ly - 9}" width="10" height="10" fill="${color}"/><text x="${lx + 14}" y="${ly}" class="tick">${escapeHtml(`${p.label} ${formatMs(p.perRequestMs)} (${p.share}%)`)}</text>`)
  })
  return `<svg viewBox="0 0 ${W} ${height}" width="${W}" height="${height}" role="img" aria-label="${label}"><title>${label}</title>${out.join('')}</svg>`
}

const pctText = (v: number): string => `${Math.round(v * 100)}%`

/** The "Where the time went" block of a scenario's section. */
export function serverSection (r: ScenarioResult): string {
  const b = r.server
  if (b === undefined) return ''
  if (!b.available) return `<h3>Where the time went (server)</h3><p class="muted">Server metrics unavailable: ${escapeHtml(b.reason)}</p>`
  const routes = b.routes.map((x) => {
    const same = x.requests === x.clientRequests && x.rateLimited === x.clientRateLimited
    return `<tr><td>${escapeHtml(x.route)}</td><td class="${same ? '' : 'warnc'}">${x.requests} / ${x.clientRequests}</td><td class="${same ? '' : 'warnc'}">${x.rateLimited} / ${x.clientRateLimited}</td><td>${formatMs(x.p50Ms ?? Number.NaN)}</td><td>${formatMs(x.p95Ms ?? Number.NaN)}</td></tr>`
  }).join('')
  const workers = b.workers.map((w) => `<tr><td>${escapeHtml(w.worker)}</td><td>${w.cpuSeconds.toFixed(2)} s</td><td>${pctText(w.eventLoopUtilisation)}</td></tr>`).join('')
  const latency: Series[] = [
    { name: 'client P95', color: PALETTE[0]!, points: b.timeline.map((p) => ({ x: p.t, y: p.clientP95Ms })) },
    { name: 'server P95', color: PALETTE[1]!, points: b.timeline.map((p) => ({ x: p.t, y: p.serverP95Ms })) }
  ]
  const names = [...new Set(b.timeline.flatMap((p) => Object.keys(p.eventLoop)))].sort((a, c) => Number(a) - Number(c))
  const loops: Series[] = names.map((w, i) => ({ name: `worker ${w}`, color: PALETTE[(i + 2) % PALETTE.length]!, points: b.timeline.map((p) => ({ x: p.t, y: p.eventLoop[w] ?? null })) }))
  return `<h3>Where the time went (server, from /metrics)</h3>
<p class="where">${escapeHtml(b.line)}</p>
<div class="grid2">
<figure><figcaption>Mean request's server time, by part</figcaption>${splitSvg(b, `${r.name}: server time by part`)}</figure>
<table><thead><tr><th>Route</th><th>Requests server / client</th><th>429 server / client</th><th>Server P50</th><th>Server P95</th></tr></thead><tbody>${routes}</tbody></table>
</div>
<div class="grid2">
<figure><figcaption>P95 latency per second: client vs server</figcaption>${lineChartSvg(latency, `${r.name}: client vs server P95`, 'P95', formatMs)}</figure>
<figure><figcaption>Event-loop utilisation per worker</figcaption>${lineChartSvg(loops, `${r.name}: event-loop utilisation per worker`, 'busy', pctText, 1)}</figure>
</div>
<table class="kv"><tr><th>Server P50 / P95 / mean</th><td>${formatMs(b.p50Ms ?? Number.NaN)} / ${formatMs(b.p95Ms ?? Number.NaN)} / ${formatMs(b.meanMs ?? Number.NaN)} (client P95 ${formatMs(b.clientP95Ms ?? Number.NaN)})</td></tr>
<tr><th>CPU per request</th><td>${b.cpuMsPerRequest === null ? '-' : formatMs(b.cpuMsPerRequest)}</td></tr>
<tr><th>Peaks</th><td>${b.peaks.pgPoolWaitingClients} waiting for a PostgreSQL connection, ${b.peaks.ingestionQueueDepth} PDF extractions running or queued</td></tr></table>
${workers === '' ? '' : `<table><thead><tr><th>Worker</th><th>CPU</th><th>Event loop busy</th></tr></thead><tbody>${workers}</tbody></table>`}`
}

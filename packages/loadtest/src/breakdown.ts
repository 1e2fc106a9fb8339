// Where the time went: the server's own figures for one measured phase, from the scrape before it,
// the scrape after it and the one-second scrapes between. Pure: scrapes and samples in, figures out.
import {
  bucketsOf, deltaOf, histogramQuantile, histogramTotals, type LabelFilter, type PromSample, sumBy, sumOf
} from '@documind/harness'
import type { Sample } from './model.js'
import { type PhaseScrapes, type Scrape, workersIn } from './server-metrics.js'
import { percentile, sortNumbers } from './stats.js'
import { formatMs } from './units.js'

const HTTP = 'http_request_duration_seconds'
/** The scrapes themselves are requests too; they are not the scenario's. */
const NOT_SCRAPES: LabelFilter = { route: (r) => r !== '/metrics' }

/** The parts of a request's time the API measures separately, in the order they are reported. */
export const TIME_PARTS = [
  { key: 'hashWait', histogram: 'password_hash_queue_wait_seconds', label: 'waiting for a hash slot' },
  { key: 'hashing', histogram: 'password_hash_duration_seconds', label: 'hashing' },
  { key: 'postgres', histogram: 'pg_query_duration_seconds', label: 'PostgreSQL' },
  { key: 'limitStore', histogram: 'rate_limit_store_duration_seconds', label: 'limit store' },
  { key: 'llm', histogram: 'groq_request_duration_seconds', label: 'LLM' },
  { key: 'ingestion', histogram: 'ingestion_extract_duration_seconds', label: 'PDF extraction' }
] as const

export interface TimePart {
  key: string
  label: string
  /** Seconds spent over the phase, all requests together. */
  seconds: number
  /** seconds / server requests, ms: this part's share of the mean request. */
  perRequestMs: number
  /** Share of the server's total request time, %. */
  share: number
  /** Observations (hash calls, queries, ...) and their P95, ms. */
  count: number
  p95Ms: number | null
}

export interface RouteFigures {
  /** "METHOD /route", the client's operation name. */
  route: string
  requests: number
  rateLimited: number
  p50Ms: number | null
  p95Ms: number | null
  clientRequests: number
  clientRateLimited: number
}

export interface WorkerFigures {
  worker: string
  cpuSeconds: number
  /** Share of the phase the worker's event loop was busy, 0..1. */
  eventLoopUtilisation: number
}

export interface BreakdownPoint {
  /** End of the interval, seconds since the phase began. */
  t: number
  requests: number
  serverP95Ms: number | null
  clientP95Ms: number | null
  /** Event-loop utilisation per worker over the interval, 0..1. */
  eventLoop: Record<string, number>
}

export interface CountCheck {
  ok: boolean
  detail: string
  /** Set when a worker joined or left between the scrapes: the cluster's sums then moved by its counts. */
  uncertain?: string
}

export interface ServerBreakdown {
  available: true
  /** Seconds between the two scrapes. */
  seconds: number
  requests: number
  p50Ms: number | null
  p95Ms: number | null
  meanMs: number | null
  clientP95Ms: number | null
  routes: RouteFigures[]
  /** The measured parts and "other" (the rest of the mean request). */
  split: TimePart[]
  cpuMsPerRequest: number | null
  workers: WorkerFigures[]
  /** Highest value seen during the phase. */
  peaks: { pgPoolWaitingClients: number, ingestionQueueDepth: number }
  timeline: BreakdownPoint[]
  countCheck: CountCheck
  /** The console's "where the time went" line. */
  line: string
}

export interface NoBreakdown {
  available: false
  reason: string
}

export type ServerFigures = ServerBreakdown | NoBreakdown

const ms = (seconds: number): number => Math.round(seconds * 1_000_000) / 1000
const quantileMs = (q: number, samples: readonly PromSample[], filter: LabelFilter): number | null => {
  const v = histogramQuantile(q, bucketsOf(samples, HTTP, filter))
  return Number.isNaN(v) ? null : ms(v)
}

function clientP95 (samples: readonly Sample[]): number | null {
  const answered = samples.filter((s) => s.status !== 0 && Number.isFinite(s.latencyMs)).map((s) => s.latencyMs)
  return answered.length === 0 ? null : percentile(sortNumbers(answered), 95)
}

/**
 * Per-worker counter deltas, for the workers both scrapes saw: a worker that started in between
 * would bring its whole start-up, one that did not answer a scrape has no difference to give.
 */
function perWorker (a: Scrape, b: Scrape, delta: readonly PromSample[], name: string): Map<string, number> {
  const both = workersIn(a)
  const later = workersIn(b)
  return new Map([...sumBy(delta, name, ['worker'])].filter(([w]) => both.has(w) && later.has(w)))
}

function workerChange (a: Scrape, b: Scrape): string | undefined {
  const before = workersIn(a)
  const after = workersIn(b)
  const joined = [...after].filter((w) => !before.has(w))
  const left = [...before].filter((w) => !after.has(w))
  if (joined.length === 0 && left.length === 0) return undefined
  return [joined.length > 0 ? `worker ${joined.join(', ')} joined` : '', left.length > 0 ? `worker ${left.join(', ')} left or did not answer` : '']
    .filter((x) => x !== '').join(' and ') + ' between the scrapes, so the cluster\'s sums moved by its counts'
}

function timelineOf (scrapes: readonly Scrape[], samples: readonly Sample[]): BreakdownPoint[] {
  const out: BreakdownPoint[] = []
  for (let i = 1; i < scrapes.length; i++) {
    const a = scrapes[i - 1]!
    const b = scrapes[i]!
    const dt = (b.at - a.at) / 1000
    if (dt <= 0) continue
    const delta = deltaOf(a.samples, b.samples)
    const eventLoop: Record<string, number> = {}
    for (const [worker, busy] of perWorker(a, b, delta, 'nodejs_eventloop_active_seconds_total')) eventLoop[worker] = Math.min(1, busy / dt)
    out.push({
      t: Math.round(b.at) / 1000,
      requests: sumOf(delta, `${HTTP}_count`, NOT_SCRAPES),
      serverP95Ms: quantileMs(0.95, delta, NOT_SCRAPES),
      clientP95Ms: clientP95(samples.filter((s) => s.at > a.at && s.at <= b.at)),
      eventLoop
    })
  }
  return out
}

/**
 * Does the server's count of requests (and of 429s) per route equal the client's? A request
 * without an answer may or may not have reached the server, and a timed phase's requests cut off
 * at its end may still be counted, so those widen the range instead of failing it.
 */
function countCheck (routes: readonly RouteFigures[], samples: readonly Sample[], unfinished: number, uncertain: string | undefined): CountCheck {
  const noAnswer = new Map<string, number>()
  for (const s of samples) if (s.status === 0) noAnswer.set(s.op, (noAnswer.get(s.op) ?? 0) + 1)
  const anonymous = (noAnswer.get('(no answer)') ?? 0) + unfinished
  const sent = new Set(samples.map((s) => s.op))
  const mismatches: string[] = []
  const others: string[] = []
  let requests = 0
  for (const r of routes) {
    requests += r.requests
    if (!sent.has(r.route)) {
      others.push(`${r.route} x ${r.requests}`)
      continue
    }
    const slack = (noAnswer.get(r.route) ?? 0) + anonymous
    const within = (server: number, client: number): boolean => server >= client && server <= client + slack
    if (!within(r.requests, r.clientRequests)) mismatches.push(`${r.route}: server ${r.requests}, client ${r.clientRequests} answered${slack > 0 ? ` (+ up to ${slack} unanswered)` : ''}`)
    else if (!within(r.rateLimited, r.clientRateLimited)) mismatches.push(`${r.route}: server ${r.rateLimited} x 429, client ${r.clientRateLimited} x 429`)
  }
  // Requests to routes the load tester did not call in the phase are someone else's (a readiness
  // probe a starting worker answered late, another client): worth a warning, not a miscount.
  const other = others.length === 0 ? undefined : `the server also counted requests the load tester did not send in this phase: ${others.join(', ')}`
  const why = [uncertain, other].filter((x) => x !== undefined).join('; ')
  const flags = why === '' ? {} : { uncertain: why }
  if (mismatches.length > 0) return { ok: false, detail: mismatches.join('; ') + (why === '' ? '' : ` (${why})`), ...(uncertain === undefined ? {} : { uncertain }) }
  if (other !== undefined) return { ok: false, detail: `the routes the load tester called were counted alike; ${other}`, ...flags }
  return { ok: true, detail: `${requests} requests on ${routes.length} route(s), 429s included, counted alike by the server and the client` }
}

function sentence (name: string, b: Omit<ServerBreakdown, 'line'>): string {
  if (b.requests === 0) return `${name}: the server counted no request`
  const parts = b.split.filter((p) => p.perRequestMs >= 0.05).map((p) => `${formatMs(p.perRequestMs)} ${p.label}`)
  const elu = b.workers.map((w) => `${Math.round(w.eventLoopUtilisation * 100)}% (worker ${w.worker})`).join(', ')
  const measured = b.split.filter((p) => p.key !== 'other').reduce((a, p) => a + p.perRequestMs, 0)
  const beyond = b.meanMs !== null && measured > b.meanMs * 1.02 ? ' (more than the mean: the parts overlapped, or ran in work outside the requests)' : ''
  return `${name} server p95 ${formatMs(b.p95Ms ?? Number.NaN)} (client ${formatMs(b.clientP95Ms ?? Number.NaN)}), ` +
    `mean ${formatMs(b.meanMs ?? Number.NaN)}: ${parts.length === 0 ? 'nothing measured separately' : parts.join(', ')}${beyond}` +
    (b.cpuMsPerRequest === null ? '' : `; CPU ${formatMs(b.cpuMsPerRequest)} per request`) +
    (elu === '' ? '' : `; event loop busy ${elu}`)
}

/** The server's figures for one measured phase and the client samples of the same phase. */
export function buildBreakdown (name: string, scrapes: PhaseScrapes, samples: readonly Sample[], unfinished = 0): ServerBreakdown {
  const { before, during, after } = scrapes
  const delta = deltaOf(before.samples, after.samples)
  const seconds = Math.max(0.001, (after.at - before.at) / 1000)
  const total = histogramTotals(delta, HTTP, NOT_SCRAPES)

  const client = new Map<string, { n: number, limited: number }>()
  for (const s of samples) {
    if (s.status === 0) continue
    const c = client.get(s.op) ?? { n: 0, limited: 0 }
    c.n++
    if (s.status === 429) c.limited++
    client.set(s.op, c)
  }
  const server = sumBy(delta, `${HTTP}_count`, ['method', 'route'], NOT_SCRAPES)
  const keys = new Set([...server].filter(([, n]) => n > 0).map(([k]) => k))
  for (const k of client.keys()) keys.add(k)
  const routes: RouteFigures[] = [...keys].sort().map((key) => {
    const [method, route] = key.split(' ') as [string, string]
    const filter: LabelFilter = { method, route }
    return {
      route: key,
      requests: server.get(key) ?? 0,
      rateLimited: sumOf(delta, `${HTTP}_count`, { ...filter, status_code: '429' }),
      p50Ms: quantileMs(0.5, delta, filter),
      p95Ms: quantileMs(0.95, delta, filter),
      clientRequests: client.get(key)?.n ?? 0,
      clientRateLimited: client.get(key)?.limited ?? 0
    }
  })

  const perRequest = (s: number): number => total.count > 0 ? ms(s / total.count) : 0
  const share = (s: number): number => total.sum > 0 ? Math.round((s / total.sum) * 1000) / 10 : 0
  // The PostgreSQL limit store's queries go through the same pool, so pg_query_duration_seconds
  // counts them too: they are the limit store's time here, not PostgreSQL's twice.
  const pgLimits = histogramTotals(delta, 'rate_limit_store_duration_seconds', { store: 'postgres' })
  const split: TimePart[] = TIME_PARTS.map((p) => {
    const all = histogramTotals(delta, p.histogram)
    const t = p.key === 'postgres' ? { sum: Math.max(0, all.sum - pgLimits.sum), count: Math.max(0, all.count - pgLimits.count) } : all
    const p95 = histogramQuantile(0.95, bucketsOf(delta, p.histogram))
    return { key: p.key, label: p.label, seconds: Math.round(t.sum * 1e6) / 1e6, perRequestMs: perRequest(t.sum), share: share(t.sum), count: t.count, p95Ms: Number.isNaN(p95) ? null : ms(p95) }
  })
  // Parts can overlap (queries running side by side), so "other" never goes below 0.
  const rest = Math.max(0, total.sum - split.reduce((a, p) => a + p.seconds, 0))
  split.push({ key: 'other', label: 'other', seconds: Math.round(rest * 1e6) / 1e6, perRequestMs: perRequest(rest), share: share(rest), count: total.count, p95Ms: null })

  const cpu = perWorker(before, after, delta, 'process_cpu_seconds_total')
  const busy = perWorker(before, after, delta, 'nodejs_eventloop_active_seconds_total')
  const workers: WorkerFigures[] = [...new Set([...cpu.keys(), ...busy.keys()])].sort((a, b) => Number(a) - Number(b) || a.localeCompare(b)).map((worker) => ({
    worker,
    cpuSeconds: Math.round((cpu.get(worker) ?? 0) * 1000) / 1000,
    eventLoopUtilisation: Math.round(Math.min(1, (busy.get(worker) ?? 0) / seconds) * 1000) / 1000
  }))
  const cpuTotal = [...cpu.values()].reduce((a, v) => a + v, 0)
  const all = [before, ...during, after]
  const peak = (metric: string): number => Math.max(0, ...all.map((s) => sumOf(s.samples, metric)))

  const b: Omit<ServerBreakdown, 'line'> = {
    available: true,
    seconds: Math.round(seconds * 1000) / 1000,
    requests: total.count,
    p50Ms: quantileMs(0.5, delta, NOT_SCRAPES),
    p95Ms: quantileMs(0.95, delta, NOT_SCRAPES),
    meanMs: total.count > 0 ? ms(total.sum / total.count) : null,
    clientP95Ms: clientP95(samples),
    routes,
    split,
    cpuMsPerRequest: total.count > 0 && cpu.size > 0 ? ms(cpuTotal / total.count) : null,
    workers,
    peaks: { pgPoolWaitingClients: peak('pg_pool_waiting_clients'), ingestionQueueDepth: peak('ingestion_queue_depth') },
    timeline: timelineOf(all, samples),
    countCheck: countCheck(routes, samples, unfinished, workerChange(before, after))
  }
  return { ...b, line: sentence(name, b) }
}

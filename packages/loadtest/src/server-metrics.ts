// Reads the API's cluster-wide GET /metrics around each measured phase (and every second during
// it), so the report can say where the server spent the time. A target without metrics is fine:
// the first failed scrape says why and the run carries on without the breakdown.
import { performance } from 'node:perf_hooks'
import { parsePrometheusText, type PromSample, sumOf } from '@documind/harness'

export interface MetricsEndpoint {
  url: string
  token?: string | undefined
}

/** One scrape: when it was taken (ms since the phase began) and what it said. */
export interface Scrape {
  at: number
  samples: PromSample[]
}

export type ScrapeResult = { ok: true, samples: PromSample[] } | { ok: false, why: string }

export async function scrapeMetrics (endpoint: MetricsEndpoint, timeoutMs = 5000): Promise<ScrapeResult> {
  let res: Response
  try {
    res = await fetch(endpoint.url, {
      headers: endpoint.token === undefined ? {} : { authorization: `Bearer ${endpoint.token}` },
      signal: AbortSignal.timeout(timeoutMs)
    })
  } catch (err) {
    const cause = (err as { cause?: { code?: string } }).cause?.code
    return { ok: false, why: `GET ${endpoint.url}: ${cause ?? (err instanceof Error ? err.message : String(err))}` }
  }
  const text = await res.text()
  if (res.status === 401) return { ok: false, why: `GET ${endpoint.url} answered 401 (${endpoint.token === undefined ? 'no token given: pass --metrics-token' : 'the token was refused'})` }
  if (res.status !== 200) return { ok: false, why: `GET ${endpoint.url} answered ${res.status}${res.status === 404 ? ' (metrics are off: set METRICS_TOKEN or METRICS_PORT on the deployment)' : ''}` }
  try {
    return { ok: true, samples: parsePrometheusText(text) }
  } catch (err) {
    return { ok: false, why: `GET ${endpoint.url} did not answer Prometheus text: ${err instanceof Error ? err.message : String(err)}` }
  }
}

/** Workers a scrape reported (the process metrics carry their number). */
export function workersIn (scrape: { samples: readonly PromSample[] }): Set<string> {
  return new Set(scrape.samples.filter((s) => s.name === 'process_cpu_seconds_total').map((s) => s.labels.worker ?? ''))
}

/** The scrapes of one measured phase: before, every second during, after. */
export interface PhaseScrapes {
  before: Scrape
  during: Scrape[]
  after: Scrape
}

/**
 * Brackets measured phases with scrapes. `start` takes the "before" scrape and starts the
 * one-second sampler; `end` stops it and takes the "after" scrape. Once a before or after scrape
 * fails, the reason is kept and no further scrape is attempted; a missed sample only leaves a gap.
 */
export class ServerMetrics {
  unavailable: string | undefined
  private t0 = 0
  private before: Scrape | undefined
  private during: Scrape[] = []
  private timer: NodeJS.Timeout | undefined
  private pending: Promise<void> | undefined

  constructor (readonly endpoint: MetricsEndpoint | undefined, reason = 'no metrics endpoint', private readonly intervalMs = 1000) {
    if (endpoint === undefined) this.unavailable = reason
  }

  /** A scrape; a failed one ends the scraping unless it is one of the per-second samples (`fatal` false). */
  private async take (fatal = true): Promise<Scrape | undefined> {
    if (this.unavailable !== undefined || this.endpoint === undefined) return undefined
    const r = await scrapeMetrics(this.endpoint)
    if (!r.ok) {
      if (fatal) this.unavailable = r.why
      return undefined
    }
    return { at: performance.now() - this.t0, samples: r.samples }
  }

  /**
   * The launcher is ready when one worker answers; the others join within seconds. A worker that
   * joins during a phase would bring its start-up into that phase's figures, so the local stack
   * waits for all of them. Returns why it stopped waiting, if not every worker reported.
   */
  async waitForWorkers (n: number, timeoutMs: number): Promise<string | undefined> {
    const deadline = performance.now() + timeoutMs
    let seen = 0
    let served = -1
    while (this.endpoint !== undefined && this.unavailable === undefined) {
      const r = await scrapeMetrics(this.endpoint)
      if (!r.ok) {
        this.unavailable = r.why
        return r.why
      }
      seen = workersIn(r).size
      // ...and for the start-up's own requests (readiness probes) to have been answered and counted.
      const count = sumOf(r.samples, 'http_request_duration_seconds_count', { route: (x) => x !== '/metrics' })
      if (seen >= n && count === served) return undefined
      served = seen >= n ? count : -1
      if (performance.now() > deadline) return `${seen} of ${n} workers reported in /metrics after ${Math.round(timeoutMs / 1000)} s`
      await new Promise((resolve) => setTimeout(resolve, 500))
    }
    return this.unavailable
  }

  /** Before a measured phase. */
  async start (): Promise<void> {
    this.t0 = performance.now()
    this.during = []
    this.before = await this.take()
    if (this.before === undefined) return
    this.t0 = performance.now()
    this.before.at = 0
    this.timer = setInterval(() => {
      if (this.pending !== undefined) return
      this.pending = this.take(false).then((s) => { if (s !== undefined) this.during.push(s) }).finally(() => { this.pending = undefined })
    }, this.intervalMs)
    this.timer.unref()
  }

  /** After a measured phase: its scrapes, or undefined when metrics were unavailable. */
  async end (): Promise<PhaseScrapes | undefined> {
    if (this.timer !== undefined) clearInterval(this.timer)
    this.timer = undefined
    await this.pending
    const before = this.before
    this.before = undefined
    if (before === undefined) return undefined
    // The server records a request when its answer has gone out; give the last ones a moment.
    await new Promise((resolve) => setTimeout(resolve, 100))
    const after = await this.take()
    if (after === undefined) return undefined
    return { before, during: this.during, after }
  }
}

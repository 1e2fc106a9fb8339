import { performance } from 'node:perf_hooks'
import autocannon from 'autocannon'
import type { Sample } from './model.js'

export type HttpMethod = 'GET' | 'POST' | 'PUT' | 'DELETE'

/** What the answer to an operation must look like. `json` is the parsed body, or undefined. */
export type Expectation = (status: number, json: unknown, text: string) => true | string

/** One request to make, with what its answer must be. */
export interface Op {
  name: string
  method: HttpMethod
  path: string
  headers?: Record<string, string>
  body?: string | Buffer
  address?: string
  tag?: string
  user?: number
  /** Returns true when the answer matches, otherwise a short reason. */
  expect: Expectation
  /** Called with every answer (after `expect`), e.g. to keep the token of a new user. */
  onAnswer?: (status: number, json: unknown, ok: boolean) => void
}

export interface Progress {
  done: number
  failed: number
  rateLimited: number
  elapsedMs: number
  /** Planned number of requests (fixed-amount runs) or planned duration in ms (timed runs). */
  planned: { requests?: number, durationMs?: number }
}

export interface RunSpec {
  baseUrl: string
  connections: number
  /** Fixed amount: exactly these requests, each sent once. */
  ops?: Op[]
  /** Timed run: a new operation for every request. */
  next?: () => Op
  durationMs?: number
  /** Target request rate over all connections (timed runs). */
  overallRate?: number
  /** Per-request timeout, seconds. */
  timeoutS: number
  signal?: AbortSignal
  onProgress?: (p: Progress) => void
}

export interface RunOutcome {
  samples: Sample[]
  startedAt: Date
  durationMs: number
  timeouts: number
  unfinished: number
}

interface Flight { op: Op, builtAt: number }
interface FlightContext { flight?: Flight }

function parseJson (text: string): unknown {
  if (text === '') return undefined
  try {
    return JSON.parse(text)
  } catch {
    return undefined
  }
}

/**
 * Runs operations through autocannon. Every request is built by `setupRequest` (so bodies,
 * headers and X-Forwarded-For vary per request), every answer is judged in `onResponse` and timed
 * by the instance's `response` event, which autocannon emits synchronously right after
 * `onResponse` for the same answer; the two are paired through a one-slot hand-over.
 */
export function runOps (spec: RunSpec): Promise<RunOutcome> {
  const fixed = spec.ops
  if (fixed !== undefined && fixed.length === 0) {
    return Promise.resolve({ samples: [], startedAt: new Date(), durationMs: 0, timeouts: 0, unfinished: 0 })
  }
  if (fixed === undefined && (spec.next === undefined || spec.durationMs === undefined)) {
    throw new Error('runOps needs either ops, or next and durationMs')
  }
  const connections = Math.max(1, fixed !== undefined ? Math.min(spec.connections, fixed.length) : spec.connections)
  const base = new URL(spec.baseUrl)
  const prefix = base.pathname.replace(/\/$/, '')
  const samples: Sample[] = []
  const inflight = new Set<Flight>()
  const errorMessages: string[] = []
  let timeouts = 0
  let failed = 0
  let rateLimited = 0
  let index = 0
  let handover: { flight: Flight, status: number, text: string } | undefined
  const t0 = performance.now()
  const startedAt = new Date()
  let lastAt = 0

  const nextOp = (): Op => {
    if (fixed !== undefined) {
      // autocannon builds exactly `amount` requests; the fallback only guards against a surprise.
      const op = fixed[Math.min(index, fixed.length - 1)]!
      index++
      return op
    }
    return spec.next!()
  }

  const request: autocannon.Request = {
    setupRequest: (req, context) => {
      const op = nextOp()
      const flight: Flight = { op, builtAt: performance.now() - t0 }
      ;(context as FlightContext).flight = flight
      inflight.add(flight)
      const headers: Record<string, string> = { ...op.headers }
      if (op.address !== undefined) headers['x-forwarded-for'] = op.address
      req.method = op.method
      req.path = prefix + op.path
      req.headers = headers
      req.body = op.body ?? Buffer.alloc(0)
      return req
    },
    onResponse: (status, body, context) => {
      const flight = (context as FlightContext).flight
      if (flight !== undefined) handover = { flight, status, text: body }
    }
  }

  const record = (sample: Sample): void => {
    samples.push(sample)
    if (!sample.ok) failed++
    if (sample.status === 429) rateLimited++
    if (sample.at > lastAt) lastAt = sample.at
  }

  return new Promise<RunOutcome>((resolve, reject) => {
    let settled = false
    const options: autocannon.Options = {
      url: base.origin,
      connections,
      timeout: spec.timeoutS,
      requests: [request],
      // Results are ours; a short sample interval only makes autocannon notice the end sooner.
      sampleInt: 100
    }
    if (fixed !== undefined) {
      options.amount = fixed.length
    } else {
      options.duration = spec.durationMs! / 1000
      if (spec.overallRate !== undefined && spec.overallRate > 0) options.overallRate = spec.overallRate
    }

    let progressTimer: NodeJS.Timeout | undefined
    const finish = (err: unknown): void => {
      if (settled) return
      settled = true
      if (progressTimer !== undefined) clearInterval(progressTimer)
      spec.signal?.removeEventListener('abort', onAbort)
      if (err !== null && err !== undefined) {
        reject(err instanceof Error ? err : new Error(String(err)))
        return
      }
      const endAt = performance.now() - t0
      let unfinished = 0
      if (fixed !== undefined) {
        // Every built request was sent; those without an answer failed. Attach the connection
        // errors autocannon reported to them, in order.
        const left = [...inflight].sort((a, b) => a.builtAt - b.builtAt)
        left.forEach((flight, i) => {
          record({
            op: flight.op.name,
            ...tagFields(flight.op),
            status: 0,
            latencyMs: Number.NaN,
            at: Math.max(flight.builtAt, lastAt),
            ok: false,
            error: errorMessages[i] ?? 'no response (connection closed)',
            reason: 'no response'
          })
        })
      } else {
        // In a timed run the requests still in flight at the end were cut off by the stop; those
        // that had failed were already recorded from autocannon's error events.
        unfinished = Math.max(0, inflight.size - errorMessages.length)
      }
      const durationMs = Math.max(lastAt, fixed !== undefined ? 0 : Math.min(endAt, spec.durationMs!))
      resolve({ samples, startedAt, durationMs: durationMs > 0 ? durationMs : endAt, timeouts, unfinished })
    }

    let instance: autocannon.Instance
    try {
      instance = autocannon(options, (err) => finish(err))
    } catch (err) {
      finish(err)
      return
    }

    instance.on('response', (_client, statusCode, _bytes, responseTime) => {
      const h = handover
      handover = undefined
      if (h === undefined) return
      inflight.delete(h.flight)
      const op = h.flight.op
      const json = parseJson(h.text)
      const verdict = op.expect(statusCode, json, h.text)
      op.onAnswer?.(statusCode, json, verdict === true)
      const success = typeof json === 'object' && json !== null && typeof (json as { success?: unknown }).success === 'boolean'
        ? (json as { success: boolean }).success
        : undefined
      record({
        op: op.name,
        ...tagFields(op),
        status: statusCode,
        latencyMs: responseTime,
        at: performance.now() - t0,
        ok: verdict === true,
        ...(success === undefined ? {} : { success }),
        ...(verdict === true ? {} : { reason: verdict })
      })
    })

    instance.on('reqError', (err: unknown) => {
      const message = err instanceof Error ? err.message : String(err)
      if (message.includes('timed out')) timeouts++
      errorMessages.push(message)
      if (fixed === undefined) {
        record({ op: '(no answer)', status: 0, latencyMs: Number.NaN, at: performance.now() - t0, ok: false, error: message, reason: 'no response' })
      }
    })

    const onAbort = (): void => { instance.stop() }
    if (spec.signal !== undefined) {
      if (spec.signal.aborted) instance.stop()
      else spec.signal.addEventListener('abort', onAbort, { once: true })
    }

    if (spec.onProgress !== undefined) {
      const planned = fixed !== undefined ? { requests: fixed.length } : { durationMs: spec.durationMs! }
      const report = spec.onProgress
      progressTimer = setInterval(() => {
        report({ done: samples.length, failed, rateLimited, elapsedMs: performance.now() - t0, planned })
      }, 250)
      progressTimer.unref()
    }
  })
}

function tagFields (op: Op): Pick<Sample, 'tag' | 'address' | 'user'> {
  const out: Pick<Sample, 'tag' | 'address' | 'user'> = {}
  if (op.tag !== undefined) out.tag = op.tag
  if (op.address !== undefined) out.address = op.address
  if (op.user !== undefined) out.user = op.user
  return out
}

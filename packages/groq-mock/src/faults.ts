/**
 * Fault injection: per-request latency and jitter, forced or random failures (429, 500, stall),
 * and the deadline sleep every reply waits on.
 */
import type { IncomingMessage } from 'node:http'
import { HttpError, badRequest, header, numberHeader } from './http.js'
import { FAIL_MODES, MOCK_HEADERS } from './types.js'
import type { FailMode, MockEndpoint, MockRuntimeOptions } from './types.js'

/** mulberry32 PRNG: deterministic sequence in [0, 1) for a given seed. */
export function seededRandom (seed: number): () => number {
  let a = seed >>> 0
  return () => {
    a = (a + 0x6D2B79F5) >>> 0
    let t = a
    t = Math.imul(t ^ (t >>> 15), t | 1)
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61)
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296
  }
}

/**
 * Resolves true once `performance.now() >= deadline` (never early, even though
 * timers may fire up to ~1 ms early), or false as soon as `signal` aborts.
 */
export async function sleepUntil (deadline: number, signal: AbortSignal): Promise<boolean> {
  for (;;) {
    if (signal.aborted) return false
    const left = deadline - performance.now()
    if (left <= 0) return true
    const ok = await new Promise<boolean>((resolve) => {
      const onAbort = (): void => {
        clearTimeout(timer)
        resolve(false)
      }
      const timer = setTimeout(() => {
        signal.removeEventListener('abort', onAbort)
        resolve(true)
      }, Math.ceil(left))
      signal.addEventListener('abort', onAbort, { once: true })
    })
    if (!ok) return false
  }
}

/**
 * The failure for this request: the `x-mock-fail` header wins (`none` = no failure), then `failNext`
 * (consumed here), then `failRate`; the last two only on the endpoints in `failEndpoints` (empty = all).
 */
function chooseFailure (req: IncomingMessage, endpoint: MockEndpoint, opts: MockRuntimeOptions, random: () => number): FailMode | null {
  const forced = header(req, MOCK_HEADERS.fail)?.trim().toLowerCase()
  if (forced !== undefined && forced !== '') {
    if (forced === 'none') return null
    if (FAIL_MODES.includes(forced as FailMode)) return forced as FailMode
    throw badRequest(`invalid ${MOCK_HEADERS.fail} header: ${forced} (use 429, 500, stall or none)`)
  }
  if (opts.failEndpoints.length > 0 && !opts.failEndpoints.includes(endpoint)) return null
  if (opts.failNext > 0) {
    opts.failNext--
    return opts.failMode
  }
  if (opts.failRate > 0 && random() < opts.failRate) return opts.failMode
  return null
}

export interface FaultPlan {
  failure: FailMode | null
  /** ms after arrival at which the reply (or injected error) is due. */
  latency: number
  /** `retry-after` seconds of an injected 429. */
  retryAfter: number
}

/** Decides latency and failure for one request from its `x-mock-*` headers and the options (in that order of precedence). */
export function planFaults (req: IncomingMessage, endpoint: MockEndpoint, opts: MockRuntimeOptions, random: () => number): FaultPlan {
  const latencyBase = numberHeader(req, MOCK_HEADERS.latency) ?? opts.latencyMs
  const jitter = numberHeader(req, MOCK_HEADERS.jitter) ?? opts.jitterMs
  const retryAfter = numberHeader(req, MOCK_HEADERS.retryAfter) ?? opts.retryAfterSeconds
  // Failure first, then jitter: with a seed, the order of the draws fixes which requests fail.
  const failure = chooseFailure(req, endpoint, opts, random)
  const latency = latencyBase + (jitter > 0 ? random() * jitter : 0)
  return { failure, latency, retryAfter }
}

/** The error and headers of an injected 429 (shaped like Groq's rate-limit reply) or 500. */
export function injectedError (failure: '429' | '500', model: string, retryAfter: number): { error: HttpError, headers: Record<string, string> } {
  if (failure === '429') {
    return {
      error: new HttpError(429,
        `Rate limit reached for model \`${model}\` in organization \`org_mock\` service tier \`on_demand\` on requests per minute (RPM): Limit 30, Used 30, Requested 1. Please try again in ${retryAfter}s. (injected by groq-mock)`,
        'requests', 'rate_limit_exceeded', 'rate_limited'),
      headers: {
        'retry-after': String(retryAfter),
        'x-ratelimit-limit-requests': '30',
        'x-ratelimit-remaining-requests': '0',
        'x-ratelimit-reset-requests': `${retryAfter}s`
      }
    }
  }
  return {
    error: new HttpError(500, 'Internal Server Error (injected by groq-mock)', 'internal_server_error',
      'internal_server_error', 'server_error'),
    headers: {}
  }
}

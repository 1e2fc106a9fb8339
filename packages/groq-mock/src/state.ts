/** What one running mock holds (options, randomness, counters, open requests) and what one request carries. */
import type { ServerResponse } from 'node:http'
import { seededRandom } from './faults.js'
import { errorBody, sendJson } from './http.js'
import type { HttpError } from './http.js'
import { DEFAULT_RUNTIME_OPTIONS, mergeOptions } from './options.js'
import { MOCK_ENDPOINTS, MOCK_OUTCOMES } from './types.js'
import type { GroqMockStats, MockEndpoint, MockOutcome, MockRuntimeOptions } from './types.js'

export interface RequestCtx {
  id: string
  endpoint: MockEndpoint
  signal: AbortSignal
  recorded: boolean
  /** performance.now() when the request arrived; latency is measured from here. */
  start: number
}

/** A validated API request, ready to be answered. */
export interface PreparedRequest {
  /** Model the request names (quoted by an injected 429). */
  model: string
  /** Answers once `latency` ms have passed since the request arrived (or gives up when the client leaves). */
  respond: (res: ServerResponse, ctx: RequestCtx, latency: number) => Promise<void>
}

type Counters = Omit<GroqMockStats, 'inFlight' | 'stalled'>

function emptyCounts<K extends string> (keys: readonly K[]): Record<K, number> {
  return Object.fromEntries(keys.map((k) => [k, 0])) as Record<K, number>
}

function newCounters (): Counters {
  return {
    total: 0,
    streamed: 0,
    byEndpoint: emptyCounts(MOCK_ENDPOINTS),
    byOutcome: emptyCounts(MOCK_OUTCOMES),
    byEndpointOutcome: Object.fromEntries(MOCK_ENDPOINTS.map((e) => [e, emptyCounts(MOCK_OUTCOMES)])) as
      Record<MockEndpoint, Record<MockOutcome, number>>
  }
}

export class MockState {
  opts: MockRuntimeOptions
  /** Drives jitter and failRate; seeded when `opts.seed` is set. */
  random: () => number
  counters: Counters = newCounters()
  readonly inFlight = new Set<AbortController>()
  readonly stalled = new Set<ServerResponse>()

  constructor (runtime: Partial<MockRuntimeOptions>) {
    this.opts = mergeOptions({ ...DEFAULT_RUNTIME_OPTIONS, failEndpoints: [] }, runtime)
    this.random = this.opts.seed === null ? Math.random : seededRandom(this.opts.seed)
  }

  setOptions (partial: Partial<MockRuntimeOptions>): void {
    this.opts = mergeOptions(this.opts, partial)
    if (partial.seed !== undefined) this.random = this.opts.seed === null ? Math.random : seededRandom(this.opts.seed)
  }

  stats (): GroqMockStats {
    const copy = structuredClone(this.counters)
    return { ...copy, inFlight: this.inFlight.size, stalled: this.stalled.size }
  }

  resetStats (): void {
    this.counters = newCounters()
  }

  /** Counts a request's outcome; only the first outcome of a request counts. */
  record (ctx: RequestCtx, outcome: MockOutcome): void {
    if (ctx.recorded) return
    ctx.recorded = true
    this.counters.byOutcome[outcome]++
    this.counters.byEndpointOutcome[ctx.endpoint][outcome]++
  }

  sendError (res: ServerResponse, ctx: RequestCtx, err: HttpError, headers: Record<string, string> = {}): void {
    this.record(ctx, err.outcome)
    sendJson(res, err.status, errorBody(err.message, err.type, err.code), headers)
  }
}

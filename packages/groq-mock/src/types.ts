export type FailMode = '429' | '500' | 'stall'

export const FAIL_MODES: readonly FailMode[] = ['429', '500', 'stall']

export type MockEndpoint = 'chat.completions' | 'audio.transcriptions' | 'audio.speech' | 'models' | 'unknown'

export const MOCK_ENDPOINTS: readonly MockEndpoint[] = [
  'chat.completions', 'audio.transcriptions', 'audio.speech', 'models', 'unknown'
]

export type MockOutcome =
  | 'ok'
  | 'rate_limited'
  | 'server_error'
  | 'stalled'
  | 'unauthorized'
  | 'bad_request'
  | 'not_found'
  | 'aborted'

export const MOCK_OUTCOMES: readonly MockOutcome[] = [
  'ok', 'rate_limited', 'server_error', 'stalled', 'unauthorized', 'bad_request', 'not_found', 'aborted'
]

/** Behaviour knobs that can be changed at runtime with `setOptions()` (or `POST /__mock/options`). */
export interface MockRuntimeOptions {
  /** Delay before the response, in ms (streaming: spread over the chunks). Default 0. */
  latencyMs: number
  /** Extra random delay in [0, jitterMs] added to latencyMs. Default 0. */
  jitterMs: number
  /** Probability (0..1) that a request fails with `failMode`. Default 0. */
  failRate: number
  /** How injected failures look. Default '500'. */
  failMode: FailMode
  /** Fail exactly the next n API requests with `failMode` (decremented per failed request). Default 0. */
  failNext: number
  /** Endpoints that failRate/failNext apply to; empty = all. Default []. */
  failEndpoints: MockEndpoint[]
  /** `retry-after` header value (seconds) on 429 responses. Default 1. */
  retryAfterSeconds: number
  /** Require `Authorization: Bearer <non-empty>`. Default true. */
  requireAuth: boolean
  /** Seed for the PRNG behind jitter and failRate (null = Math.random). Default null. */
  seed: number | null
  /** Speech clip length per input character, ms (divided by `speed`). Default 60. */
  speechMsPerChar: number
  /** Speech clip length cap, ms. Default 30000. */
  speechMaxMs: number
  /** Default speech sample rate when the request has no `sample_rate`. Default 22050. */
  speechSampleRate: number
  /** Maximum accepted request body, bytes (413 above). Default 100 MiB. */
  maxBodyBytes: number
}

export interface GroqMockOptions extends Partial<MockRuntimeOptions> {
  /** TCP port; 0 = ephemeral. Default 0. */
  port?: number
  /** Interface to bind. Default '127.0.0.1'. */
  host?: string
}

export interface GroqMockStats {
  /** API requests received (control endpoints under /__mock are not counted). */
  total: number
  /** Requests currently being handled (including stalled ones). */
  inFlight: number
  /** Requests currently stalled (never answered). */
  stalled: number
  /** Chat requests answered as server-sent events. */
  streamed: number
  byEndpoint: Record<MockEndpoint, number>
  byOutcome: Record<MockOutcome, number>
  byEndpointOutcome: Record<MockEndpoint, Record<MockOutcome, number>>
}

export interface GroqMock {
  /** Base URL to give groq-sdk as `baseURL`, e.g. `http://127.0.0.1:4010` (the SDK adds `/openai/v1/...`). */
  url: string
  port: number
  host: string
  /** Stops listening and destroys every connection (keep-alive, streaming and stalled). Idempotent. */
  close: () => Promise<void>
  setOptions: (partial: Partial<MockRuntimeOptions>) => void
  getOptions: () => MockRuntimeOptions
  stats: () => GroqMockStats
  resetStats: () => void
}

/** Request headers that override behaviour for one request. */
export const MOCK_HEADERS = {
  /** Latency (ms) for this request, replaces `latencyMs`. */
  latency: 'x-mock-latency-ms',
  /** Jitter (ms) for this request, replaces `jitterMs`. */
  jitter: 'x-mock-jitter-ms',
  /** `429` | `500` | `stall` forces that failure; `none` disables failRate/failNext for this request. */
  fail: 'x-mock-fail',
  /** `retry-after` seconds for a 429 of this request. */
  retryAfter: 'x-mock-retry-after'
} as const

/** Runtime options: defaults and validation of partial updates (`startGroqMock`, `setOptions`, `POST /__mock/options`). */
import { FAIL_MODES, MOCK_ENDPOINTS } from './types.js'
import type { FailMode, MockEndpoint, MockRuntimeOptions } from './types.js'

export const DEFAULT_RUNTIME_OPTIONS: Readonly<MockRuntimeOptions> = Object.freeze({
  latencyMs: 0,
  jitterMs: 0,
  failRate: 0,
  failMode: '500' as FailMode,
  failNext: 0,
  failEndpoints: [] as MockEndpoint[],
  retryAfterSeconds: 1,
  requireAuth: true,
  seed: null,
  speechMsPerChar: 60,
  speechMaxMs: 30_000,
  speechSampleRate: 22050,
  maxBodyBytes: 100 * 1024 * 1024
})

function nonNegative (name: string, v: unknown): number {
  if (typeof v !== 'number' || !Number.isFinite(v) || v < 0) throw new TypeError(`${name} must be a finite number >= 0`)
  return v
}

/** Validates a partial runtime options object and merges it into `base`. */
export function mergeOptions (base: MockRuntimeOptions, partial: Partial<MockRuntimeOptions>): MockRuntimeOptions {
  const out: MockRuntimeOptions = { ...base, failEndpoints: [...base.failEndpoints] }
  for (const [key, value] of Object.entries(partial) as Array<[keyof MockRuntimeOptions, unknown]>) {
    if (value === undefined) continue
    switch (key) {
      case 'latencyMs':
      case 'jitterMs':
      case 'retryAfterSeconds':
      case 'speechMsPerChar':
        out[key] = nonNegative(key, value)
        break
      case 'speechMaxMs':
      case 'speechSampleRate':
      case 'maxBodyBytes':
        if (nonNegative(key, value) <= 0) throw new TypeError(`${key} must be > 0`)
        out[key] = value as number
        break
      case 'failRate':
        if (nonNegative(key, value) > 1) throw new TypeError('failRate must be within 0..1')
        out.failRate = value as number
        break
      case 'failNext':
        if (!Number.isInteger(value) || (value as number) < 0) throw new TypeError('failNext must be an integer >= 0')
        out.failNext = value as number
        break
      case 'failMode': {
        const mode = String(value) as FailMode
        if (!FAIL_MODES.includes(mode)) throw new TypeError(`failMode must be one of ${FAIL_MODES.join(', ')}`)
        out.failMode = mode
        break
      }
      case 'failEndpoints':
        if (!Array.isArray(value) || !value.every((e) => MOCK_ENDPOINTS.includes(e as MockEndpoint))) {
          throw new TypeError(`failEndpoints must be an array of ${MOCK_ENDPOINTS.join(', ')}`)
        }
        out.failEndpoints = [...value] as MockEndpoint[]
        break
      case 'requireAuth':
        if (typeof value !== 'boolean') throw new TypeError('requireAuth must be a boolean')
        out.requireAuth = value
        break
      case 'seed':
        if (value !== null && (typeof value !== 'number' || !Number.isFinite(value))) {
          throw new TypeError('seed must be a number or null')
        }
        out.seed = value as number | null
        break
      default:
        throw new TypeError(`unknown option: ${String(key)}`)
    }
  }
  return out
}

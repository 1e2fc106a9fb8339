import { describe, expect, it } from 'vitest'
import { assertRunnable, loadConfig } from '../src/config.js'
import { parseRateLimit, parseRateLimits } from '../src/lib/rate-limit-spec.js'

describe('rate limit notation', () => {
  it('reads Flask-Limiter strings', () => {
    expect(parseRateLimit('5 per minute')).toEqual({ max: 5, windowMs: 60_000, description: '5 per 1 minute' })
    expect(parseRateLimit('3 per hour')).toEqual({ max: 3, windowMs: 3_600_000, description: '3 per 1 hour' })
    expect(parseRateLimit('10/2 minutes')).toEqual({ max: 10, windowMs: 120_000, description: '10 per 2 minute' })
    expect(parseRateLimits('200 per day; 50 per hour').map((l) => l.max)).toEqual([200, 50])
  })

  it('refuses what it cannot read', () => {
    expect(() => parseRateLimit('lots')).toThrow(/Invalid rate limit/)
    expect(() => parseRateLimit('5 per fortnight')).toThrow(/Invalid rate limit/)
    expect(() => parseRateLimits(' ; ')).toThrow(/no limit/)
  })
})

describe('loadConfig', () => {
  it('has the documented defaults', () => {
    const config = loadConfig({})
    expect(config.port).toBe(8080)
    expect(config.bcryptCost).toBe(12)
    expect(config.corsOrigins).toEqual(['http://localhost:5173', 'http://localhost:3000'])
    expect(config.trustProxy).toEqual([])
    expect(config.rateLimits.login.max).toBe(5)
    expect(config.rateLimits.default.map((l) => l.description)).toEqual(['200 per 1 day', '50 per 1 hour'])
    expect(config.workers).toBeGreaterThan(0)
  })

  it('serves the API documentation unless API_DOCS=off', () => {
    expect(loadConfig({}).apiDocs).toBe(true)
    expect(loadConfig({ API_DOCS: 'on' }).apiDocs).toBe(true)
    expect(loadConfig({ API_DOCS: 'off' }).apiDocs).toBe(false)
    expect(() => loadConfig({ API_DOCS: 'no' })).toThrow(/API_DOCS/)
  })

  it('turns every way of serving metrics off with METRICS_ENABLED=false', () => {
    const token = 'metrics-token-0123456789'
    expect(loadConfig({ METRICS_TOKEN: token, METRICS_PORT: '9464' }).metrics).toMatchObject({ enabled: true, token, port: 9464 })
    expect(loadConfig({ METRICS_ENABLED: 'false', METRICS_TOKEN: token, METRICS_PORT: '9464' }).metrics)
      .toMatchObject({ enabled: false, token: undefined, port: undefined })
  })

  it('takes SUPABASE_JWT_SECRET, and JWT_SECRET as an alias', () => {
    expect(loadConfig({ SUPABASE_JWT_SECRET: 'a', JWT_SECRET: 'b' }).jwtSecret).toBe('a')
    expect(loadConfig({ JWT_SECRET: 'b' }).jwtSecret).toBe('b')
  })

  it('accepts proxy addresses and CIDRs, never a blanket true', () => {
    expect(loadConfig({ TRUST_PROXY: '127.0.0.1, 10.0.0.0/8,::1' }).trustProxy).toEqual(['127.0.0.1', '10.0.0.0/8', '::1'])
    expect(() => loadConfig({ TRUST_PROXY: 'true' })).toThrow(/TRUST_PROXY/)
    expect(() => loadConfig({ TRUST_PROXY: '10.0.0.0/33' })).toThrow(/TRUST_PROXY/)
  })

  it('rejects invalid values with the variable named', () => {
    expect(() => loadConfig({ PORT: 'eighty' })).toThrow(/PORT/)
    expect(() => loadConfig({ BCRYPT_COST: '3' })).toThrow(/BCRYPT_COST/)
    expect(() => loadConfig({ RATE_LIMIT_LOGIN: 'often' })).toThrow(/often/)
  })

  it('bounds how long a request may take to arrive, with the headers deadline inside the whole one', () => {
    expect(loadConfig({}).requests).toEqual({
      timeoutMs: 300_000,
      headersTimeoutMs: 30_000,
      bodyWindowMs: 10_000,
      bodyMinBytes: 4096,
      maxPendingBodiesPerAddress: 10
    })
    expect(() => loadConfig({ REQUEST_TIMEOUT_MS: '10000', HEADERS_TIMEOUT_MS: '20000' })).toThrow(/HEADERS_TIMEOUT_MS \(20000\) must not exceed REQUEST_TIMEOUT_MS/)
    expect(() => loadConfig({ MAX_PENDING_BODIES_PER_ADDRESS: '0' })).toThrow(/MAX_PENDING_BODIES_PER_ADDRESS/)
  })

  it('refuses to run the service without a database and a JWT secret', () => {
    expect(() => assertRunnable(loadConfig({}))).toThrow(/DATABASE_URL, SUPABASE_JWT_SECRET/)
    expect(() => assertRunnable(loadConfig({ DATABASE_URL: 'postgres://x' }))).toThrow(/SUPABASE_JWT_SECRET/)
    expect(() => assertRunnable(loadConfig({ DATABASE_URL: 'postgres://x', JWT_SECRET: 's' }))).not.toThrow()
  })
})

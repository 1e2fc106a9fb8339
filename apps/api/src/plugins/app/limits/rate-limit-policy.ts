import { normalizeIP } from '@fastify/rate-limit'
import fp from 'fastify-plugin'
import { Counter } from 'prom-client'
import type { FastifyReply, FastifyRequest, onRequestAsyncHookHandler, RouteOptions } from 'fastify'
import type { RateLimitSpec } from '../../../lib/rate-limit-spec.js'
import { throttledWarning } from '../../../lib/throttled-warning.js'

/**
 * What happens to a route's requests while the limit store (Redis or Postgres) is unreachable.
 * - 'closed': credential routes (login, signup, password flows). Their limit is the defence against
 *   credential stuffing and mass sign-ups, so without it they answer 503 rather than run unguarded.
 * - 'open': everything else. Those limits protect capacity, every such route still checks the
 *   caller's token and per-user quotas, and users should keep working through a cache outage.
 */
export type StoreFailureMode = 'open' | 'closed'

export interface RoutePolicy {
  limits: RateLimitSpec[]
  onStoreError?: StoreFailureMode
  /** Count only after authentication, so anonymous calls get their 401 without using the bucket. */
  afterAuth?: boolean
}

declare module 'fastify' {
  interface FastifyContextConfig {
    /** false exempts the route; absent means the default limits, failing open. */
    rateLimitPolicy?: RoutePolicy | false
  }
}

export interface RateLimitPolicyOptions {
  defaultLimits: RateLimitSpec[]
}

export const STORE_UNAVAILABLE_MESSAGE = 'Service temporarily unavailable. Please try again shortly.'

type Limiter = ReturnType<import('fastify').FastifyInstance['createRateLimit']>

/**
 * The limiter's own answers (429, and 503 while a fail-closed route's store is down) are not the
 * route's responses: they are serialised here, never by the route's response schema, which may
 * declare another body for the same status (the /ask quota 429) and would fail on this one.
 */
function sendLimiterReply (reply: FastifyReply, status: 429 | 503, retryAfterSeconds: number, message: string): FastifyReply {
  return reply.code(status)
    .header('retry-after', retryAfterSeconds)
    .header('content-type', 'application/json; charset=utf-8')
    .serializer(JSON.stringify)
    .send({ success: false, message })
}

export default fp<RateLimitPolicyOptions>(async (fastify, opts) => {
  const logStoreError = throttledWarning((err: unknown) => fastify.log.warn({ err }, 'rate limit store unavailable'))
  const decisions = new Counter({
    name: 'rate_limit_decisions_total',
    help: 'Rate-limit checks by route pattern and outcome (allowed, limited, store_unavailable)',
    labelNames: ['route', 'outcome'] as const,
    registers: [fastify.metrics.registry]
  })

  function buildHook (bucket: string, policy: RoutePolicy): onRequestAsyncHookHandler {
    const limiters: Array<{ spec: RateLimitSpec, check: Limiter }> = policy.limits.map((spec) => ({
      spec,
      check: fastify.createRateLimit({
        max: spec.max,
        timeWindow: spec.windowMs,
        keyGenerator: (req: FastifyRequest) => `${bucket}|${spec.windowMs}|${normalizeIP(req.ip)}`
      })
    }))
    const failMode = policy.onStoreError ?? 'open'
    const allowed = decisions.labels(bucket, 'allowed')
    const limited = decisions.labels(bucket, 'limited')
    const storeUnavailable = decisions.labels(bucket, 'store_unavailable')

    return async function rateLimitHook (request: FastifyRequest, reply: FastifyReply) {
      // Preflights are never counted: every authenticated browser call sends one.
      if (request.method === 'OPTIONS') return

      let results
      try {
        results = await Promise.all(limiters.map(({ check }) => check(request)))
      } catch (err) {
        logStoreError(err)
        storeUnavailable.inc()
        if (failMode === 'open') return
        return sendLimiterReply(reply, 503, 5, STORE_UNAVAILABLE_MESSAGE)
      }

      let tightest: { spec: RateLimitSpec, remaining: number, ttlInSeconds: number } | undefined
      let exceeded: typeof tightest
      results.forEach((result, i) => {
        if (result.isAllowed) return
        const entry = { spec: limiters[i]!.spec, remaining: result.remaining, ttlInSeconds: result.ttlInSeconds }
        if (tightest === undefined || entry.remaining < tightest.remaining) tightest = entry
        if (result.isExceeded && (exceeded === undefined || entry.ttlInSeconds > exceeded.ttlInSeconds)) exceeded = entry
      })
      const shown = exceeded ?? tightest
      if (exceeded === undefined) allowed.inc()
      else limited.inc()
      if (shown === undefined) return
      reply.header('x-ratelimit-limit', shown.spec.max)
      reply.header('x-ratelimit-remaining', exceeded === undefined ? shown.remaining : 0)
      reply.header('x-ratelimit-reset', shown.ttlInSeconds)
      if (exceeded !== undefined) {
        return sendLimiterReply(reply, 429, exceeded.ttlInSeconds, `Too many requests: ${exceeded.spec.description}. Try again in ${exceeded.ttlInSeconds} seconds.`)
      }
    }
  }

  fastify.addHook('onRoute', (route: RouteOptions) => {
    const policy = route.config?.rateLimitPolicy
    if (policy === false) return
    const methods = Array.isArray(route.method) ? route.method : [route.method]
    if (methods.every((m) => m === 'OPTIONS')) return
    // One bucket per path, whatever the method (HEAD and GET share one), counted per endpoint like Flask-Limiter's.
    const hook = buildHook(route.url, policy ?? { limits: opts.defaultLimits })
    // After authentication: appended behind the route's own preParsing hooks (its `authenticate`),
    // still before the body is read.
    const stage = policy?.afterAuth === true ? 'preParsing' : 'onRequest'
    const existing = route[stage]
    route[stage] = [...(existing === undefined ? [] : Array.isArray(existing) ? existing : [existing]), hook] as never
  })
}, { name: 'rate-limit-policy', dependencies: ['rate-limit', 'metrics'] })

import { createHash, timingSafeEqual } from 'node:crypto'
import { mkdir, readdir, rename, stat, unlink } from 'node:fs/promises'
import http from 'node:http'
import { join } from 'node:path'
import type { FastifyReply, FastifyRequest, onResponseHookHandler, RouteOptions } from 'fastify'
import fp from 'fastify-plugin'
import { AggregatorRegistry, collectDefaultMetrics, Counter, Registry, type MetricObjectWithValues, type MetricValue } from 'prom-client'

declare module 'fastify' {
  interface FastifyInstance {
    metrics: Metrics
  }
}

export interface Metrics {
  /** Every instrument of this worker registers here (`registers: [fastify.metrics.registry]`). */
  registry: Registry
  /** Whether GET /metrics on the API port answers (METRICS_TOKEN set); otherwise it is a 404. */
  onApiPort: boolean
  /** Constant-time check of an `Authorization: Bearer <token>` header against METRICS_TOKEN. */
  authorized: (header: string | undefined) => boolean
  /** The whole cluster's metrics in Prometheus text format (every PM2 worker's, merged). */
  scrape: () => Promise<string>
  contentType: string
}

export interface MetricsPluginOptions {
  token: string | undefined
  port: number | undefined
  host: string
  dataDir: string
}

/** Label of requests no route matched: raw URLs would make one series per scanner probe. */
export const UNMATCHED_ROUTE = 'unmatched'
const WORKER_FETCH_TIMEOUT_MS = 1000
const HTTP_BUCKETS = [0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30]
const SOCKET_NAME = /^worker-\d+\.sock$/
// Unix socket paths are limited to 108 bytes on Linux (104 on macOS).
const MAX_SOCKET_PATH = 100

type MetricsJson = MetricObjectWithValues<MetricValue<string>>[]

/**
 * Merges the workers' registries (as `getMetricsAsJSON()` returned them) into one. Series are summed
 * when their labels are equal: app counters and histograms (no worker label) add up bucket by bucket.
 * Per-process metrics carry a `worker` label, so their series never meet; their own aggregators
 * (average, first, omit for process_start_time_seconds) would drop or blur them, so they take 'sum',
 * which leaves a lone series as it is.
 */
export function aggregateWorkers (workers: MetricsJson[]): Registry {
  for (const metrics of workers) {
    for (const metric of metrics) {
      if (metric.values.some((value) => value.labels.worker !== undefined)) metric.aggregator = 'sum'
    }
  }
  return AggregatorRegistry.aggregate(workers)
}

interface Series { buckets: Float64Array, sum: number, count: number }

/**
 * The request-duration histogram, kept outside prom-client's Histogram: its observe() builds, validates
 * and hashes a label object per call, which /health (the cheapest route) would pay on every request.
 * Here each route, method and status has its own preallocated series; get() hands prom-client the same
 * JSON its Histogram produces, so text output and aggregation are unchanged.
 */
class RequestDurations {
  readonly name = 'http_request_duration_seconds'
  readonly help = 'Duration of HTTP requests in seconds, by method, route pattern and status code'
  readonly type = 'histogram'
  readonly aggregator = 'sum'
  private readonly series = new Map<string, Map<string, Map<number, Series>>>()

  seriesOf (route: string, method: string, status: number): Series {
    let byMethod = this.series.get(route)
    if (byMethod === undefined) this.series.set(route, byMethod = new Map())
    let byStatus = byMethod.get(method)
    if (byStatus === undefined) byMethod.set(method, byStatus = new Map())
    let series = byStatus.get(status)
    if (series === undefined) byStatus.set(status, series = { buckets: new Float64Array(HTTP_BUCKETS.length), sum: 0, count: 0 })
    return series
  }

  static observe (series: Series, seconds: number): void {
    series.sum += seconds
    series.count++
    for (let i = 0; i < HTTP_BUCKETS.length; i++) {
      if (seconds <= HTTP_BUCKETS[i]!) {
        series.buckets[i]!++
        return
      }
    }
  }

  async get (): Promise<{ name: string, help: string, type: string, values: MetricValue<string>[], aggregator: string }> {
    const values: Array<MetricValue<string> & { metricName: string }> = []
    for (const [route, byMethod] of this.series) {
      for (const [method, byStatus] of byMethod) {
        for (const [status, series] of byStatus) {
          const labels = { method, route, status_code: String(status) }
          let cumulative = 0
          HTTP_BUCKETS.forEach((le, i) => {
            cumulative += series.buckets[i]!
            values.push({ labels: { ...labels, le }, value: cumulative, metricName: `${this.name}_bucket` })
          })
          values.push({ labels: { ...labels, le: '+Inf' }, value: series.count, metricName: `${this.name}_bucket` })
          values.push({ labels, value: series.sum, metricName: `${this.name}_sum` })
          values.push({ labels, value: series.count, metricName: `${this.name}_count` })
        }
      }
    }
    return { name: this.name, help: this.help, type: this.type, values, aggregator: this.aggregator }
  }
}

function digest (text: string): Buffer {
  return createHash('sha256').update(text).digest()
}

/** One worker's metrics as JSON over its socket; undefined when it does not answer in time. */
async function fetchWorker (socketPath: string): Promise<MetricsJson | undefined> {
  return await new Promise((resolve) => {
    const request = http.get({ socketPath, path: '/', agent: false, timeout: WORKER_FETCH_TIMEOUT_MS }, (response) => {
      let body = ''
      response.setEncoding('utf8')
      response.on('data', (chunk: string) => { body += chunk })
      response.on('error', () => resolve(undefined))
      response.on('end', () => {
        try {
          resolve(response.statusCode === 200 ? JSON.parse(body) as MetricsJson : undefined)
        } catch {
          resolve(undefined)
        }
      })
    })
    request.on('timeout', () => request.destroy(new Error('timed out')))
    request.on('error', (err: NodeJS.ErrnoException) => {
      // Nobody listens: a worker that died or was scaled away. Its socket file goes.
      if (err.code === 'ECONNREFUSED') unlink(socketPath).catch(() => {})
      resolve(undefined)
    })
  })
}

async function listen (server: http.Server, path: string): Promise<void> {
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject)
    server.listen(path, () => { server.off('error', reject); resolve() })
  })
}

/**
 * Prometheus metrics. PM2 owns the cluster master, so prom-client's AggregatorRegistry (which runs in
 * the master) cannot gather the workers; instead every worker serves its registry as JSON on a unix
 * socket, <DATA_DIR>/metrics/worker-<NODE_APP_INSTANCE>.sock, and the worker that receives a scrape
 * fetches and merges all of them. Outside PM2 a process serves only itself.
 */
export default fp<MetricsPluginOptions>(async (fastify, opts) => {
  const registry = new Registry()
  const enabled = opts.token !== undefined || opts.port !== undefined
  const tokenDigest = opts.token === undefined ? undefined : digest(opts.token)
  const instance = process.env.NODE_APP_INSTANCE
  const durations = new RequestDurations()

  let scrape = async (): Promise<string> => await registry.metrics()
  const closers: Array<() => Promise<void>> = []

  if (enabled) {
    collectDefaultMetrics({ register: registry, labels: { worker: instance ?? '0' } })
    // Event-loop utilisation, which the default metrics lack, as a counter of the seconds the loop was
    // busy: rate() over any window is the utilisation in it, whoever scrapes and however often.
    const worker = instance ?? '0'
    registry.registerMetric(new Counter({
      name: 'nodejs_eventloop_active_seconds_total',
      help: 'Seconds the event loop spent running callbacks rather than waiting for I/O; rate() is its utilisation',
      labelNames: ['worker'] as const,
      registers: [],
      collect () {
        this.reset()
        this.inc({ worker }, performance.eventLoopUtilization().active / 1000)
      }
    }))
    registry.registerMetric(durations as never)
    addRequestDurationHooks(fastify, durations)

    if (instance !== undefined) {
      const dir = join(opts.dataDir, 'metrics')
      const name = `worker-${instance}.sock`
      const path = join(dir, name)
      if (path.length > MAX_SOCKET_PATH) {
        fastify.log.warn({ path }, 'metrics socket path too long for a unix socket: /metrics reports this worker only')
      } else {
        await mkdir(dir, { recursive: true, mode: 0o700 })
        const server = http.createServer((_request, response) => {
          registry.getMetricsAsJSON().then((json) => {
            response.setHeader('content-type', 'application/json')
            response.end(JSON.stringify(json))
          }, (err: unknown) => {
            fastify.log.warn({ err }, 'metrics collection failed')
            response.statusCode = 500
            response.end()
          })
        })
        // Bound under a name of its own, then renamed over the shared one (replacing a dead worker's
        // socket at once). Closing a unix server unlinks the name it was bound to: with the final name,
        // a worker draining during `pm2 reload` would delete its replacement's socket.
        const bound = join(dir, `${name}.${process.pid}`)
        await unlink(bound).catch(() => {})
        await listen(server, bound)
        await rename(bound, path)
        const { ino } = await stat(path)
        closers.push(async () => {
          await new Promise<void>((resolve) => server.close(() => resolve()))
          const current = await stat(path).catch(() => undefined)
          if (current?.ino === ino) await unlink(path).catch(() => {})
        })

        scrape = async () => {
          const others = (await readdir(dir)).filter((file) => SOCKET_NAME.test(file) && file !== name)
          const workers = await Promise.all([
            registry.getMetricsAsJSON() as Promise<MetricsJson>,
            ...others.map(async (file) => await fetchWorker(join(dir, file)))
          ])
          return await aggregateWorkers(workers.filter((json) => json !== undefined)).metrics()
        }
      }
    }

    if (opts.port !== undefined) {
      // Serves only /metrics, without a token: meant for a port the network does not expose. Under PM2
      // every worker listens on it (the cluster module shares the port), and each answers for all.
      const server = http.createServer((request, response) => {
        if (request.method !== 'GET' || request.url?.split('?')[0] !== '/metrics') {
          response.statusCode = 404
          response.end()
          return
        }
        scrape().then((text) => {
          response.setHeader('content-type', registry.contentType)
          response.end(text)
        }, (err: unknown) => {
          fastify.log.warn({ err }, 'metrics scrape failed')
          response.statusCode = 500
          response.end()
        })
      })
      await new Promise<void>((resolve, reject) => {
        server.once('error', reject)
        server.listen(opts.port, opts.host, () => { server.off('error', reject); resolve() })
      })
      closers.push(async () => {
        server.closeAllConnections()
        await new Promise<void>((resolve) => server.close(() => resolve()))
      })
    }
  }

  fastify.addHook('onClose', async () => {
    await Promise.all(closers.map(async (close) => { await close() }))
    registry.clear()
  })

  fastify.decorate('metrics', {
    registry,
    onApiPort: tokenDigest !== undefined,
    authorized (header: string | undefined) {
      if (tokenDigest === undefined || header === undefined || !header.startsWith('Bearer ')) return false
      return timingSafeEqual(digest(header.slice(7)), tokenDigest)
    },
    scrape: async () => await scrape(),
    contentType: registry.contentType
  } satisfies Metrics)
}, { name: 'metrics' })

/**
 * One onResponse hook per route, holding the route's pattern (never the raw URL), plus one for
 * requests no route matched. Both read reply.elapsedTime, so nothing is allocated per request once a
 * route, method and status have been seen.
 */
function addRequestDurationHooks (fastify: import('fastify').FastifyInstance, durations: RequestDurations): void {
  fastify.addHook('onRoute', (route: RouteOptions) => {
    const url = route.url
    let lastMethod = ''
    let lastStatus = 0
    let last: Series | undefined
    const hook: onResponseHookHandler = function recordDuration (request: FastifyRequest, reply: FastifyReply, done) {
      const status = reply.statusCode
      if (last === undefined || status !== lastStatus || request.method !== lastMethod) {
        lastMethod = request.method
        lastStatus = status
        last = durations.seriesOf(url, lastMethod, status)
      }
      RequestDurations.observe(last, reply.elapsedTime / 1000)
      done()
    }
    const existing = route.onResponse
    route.onResponse = [...(existing === undefined ? [] : Array.isArray(existing) ? existing : [existing]), hook] as never
  })
  fastify.addHook('onResponse', function recordUnmatched (request, reply, done) {
    if (request.is404) RequestDurations.observe(durations.seriesOf(UNMATCHED_ROUTE, request.method, reply.statusCode), reply.elapsedTime / 1000)
    done()
  })
}

// Child process: runs one autocannon load and reports raw-latency statistics to the parent over IPC.
// The load generator gets an event loop (and a process) of its own, shared with nothing measured.
import autocannon from 'autocannon'
import type { LoadResult, LoadSpec, RunnerMessage, RunnerReply } from './load-types.js'
import { LatencyRecorder, round, summarize, timeline } from './stats.js'

function reply (message: RunnerReply): void {
  process.send?.(message)
}

let instance: autocannon.Instance | undefined
let stopRequested = false

function run (spec: LoadSpec): void {
  const latencies = new LatencyRecorder()
  // Completion time (ms since start) of every response, for the per-second timeline.
  const completions = new LatencyRecorder()
  // Latencies without each connection's first request (which all start at once: a thundering herd).
  const afterFirst = new LatencyRecorder()
  const seen = new WeakSet<object>()
  const statuses: Record<string, number> = {}
  let ok = 0
  let bytes = 0
  let lastOk = 0
  const variants = spec.variants ?? []
  let next = 0
  const requests: autocannon.Request[] | undefined = variants.length === 0
    ? undefined
    : [{
        // Called for every request: picks the next variant, whichever connection sends it.
        setupRequest: (request) => {
          const variant = variants[next++ % variants.length]!
          return {
            ...request,
            ...(variant.body === undefined ? {} : { body: variant.body }),
            headers: { ...request.headers, ...variant.headers }
          }
        }
      }]

  const started = performance.now()
  const cpuStart = process.cpuUsage()
  instance = autocannon({
    url: spec.url + spec.path,
    method: spec.method ?? 'GET',
    connections: spec.connections,
    duration: spec.durationSec,
    timeout: spec.timeoutSec ?? 30,
    headers: spec.headers ?? {},
    ...(spec.body === undefined ? {} : { body: spec.body }),
    ...(spec.overallRate === undefined ? {} : { overallRate: spec.overallRate }),
    ...(requests === undefined ? {} : { requests }),
    // Keep-alive connections throughout; no retries hiding failures.
    pipelining: 1
  }, (err, result) => {
    if (err !== null && err !== undefined) {
      reply({ type: 'error', message: err instanceof Error ? err.message : String(err) })
      process.exit(1)
    }
    const elapsed = (performance.now() - started) / 1000
    const cpu = process.cpuUsage(cpuStart)
    const okSpan = (lastOk - started) / 1000
    const out: LoadResult = {
      responses: latencies.length,
      ok,
      statuses,
      errors: result.errors,
      timeouts: result.timeouts,
      elapsed_s: round(elapsed),
      last_ok_s: round(okSpan),
      rps: ok > 0 ? round(ok / okSpan, 3) : 0,
      latency: summarize(latencies.values()),
      latency_after_first: summarize(afterFirst.values()),
      bytes,
      generator_cpu_s: round((cpu.user + cpu.system) / 1e6, 3),
      timeline: timeline(latencies.values(), completions.values(), 1000)
    }
    reply({ type: 'result', result: out })
    process.disconnect?.()
  })
  instance.on('response', (client, statusCode, resBytes, responseTime) => {
    latencies.record(responseTime)
    if (seen.has(client)) afterFirst.record(responseTime)
    else seen.add(client)
    completions.record(performance.now() - started)
    bytes += resBytes
    statuses[statusCode] = (statuses[statusCode] ?? 0) + 1
    if (statusCode >= 200 && statusCode < 300) {
      ok++
      lastOk = performance.now()
    }
  })
  reply({ type: 'started' })
  if (stopRequested) instance.stop()
}

process.on('message', (message: RunnerMessage) => {
  if (message.type === 'run') {
    try {
      run(message.spec)
    } catch (err) {
      reply({ type: 'error', message: err instanceof Error ? err.message : String(err) })
      process.exit(1)
    }
  } else if (message.type === 'stop') {
    stopRequested = true
    instance?.stop()
  }
})
// The parent going away ends the run.
process.on('disconnect', () => { instance?.stop(); setTimeout(() => process.exit(0), 1000).unref() })

// GET /health against the full stack, the same stack without metrics and the bare clusters, in
// alternating rounds.
import { loadavg } from 'node:os'
import { httpJson } from '../api.js'
import { baselineHeaders, startBaseline } from '../baseline.js'
import type { LoadSpec } from '../load-types.js'
import { runLoad } from '../load.js'
import { workerProcesses } from '../stack.js'
import { median, ratio, round } from '../stats.js'
import type { HealthResult, HealthRound } from '../types.js'
import { apiWorkerPids, checkLoad, type Context, figures, type MeasuredLoad, measuredLoad, withLoadAverages } from './measure.js'

export async function healthPhase (ctx: Context): Promise<HealthResult> {
  return await withLoadAverages(async () => {
    const { plan, workers } = ctx.options
    const { connections, warmupSec, measureSec, rounds } = plan.health
    // The bare cluster answers with exactly the headers and body the real /health sends.
    const sample = await httpJson(`${ctx.stack.url}/health`)
    if (sample.status !== 200) throw new Error(`GET /health answered ${sample.status}`)
    const response = { headers: baselineHeaders(sample.headers), body: sample.text }
    // The same stack without metrics (METRICS_ENABLED=false): what metrics cost on the hot path.
    const noMetrics = await ctx.startVariant('metrics off', { METRICS_ENABLED: 'false' })
    const baseline = await startBaseline(workers, response).catch(async (err: unknown) => {
      await noMetrics.stop()
      throw err
    })
    // The same response from a bare Fastify app: tells the framework's own cost from our plugins'.
    const fastify = await startBaseline(workers, response, 'fastify').catch(async (err: unknown) => {
      await Promise.all([baseline.stop(), noMetrics.stop()])
      throw err
    })
    try {
      const baselineSample = await httpJson(`${baseline.url}/health`)
      const spec = (url: string, durationSec: number): LoadSpec => ({ url, path: '/health', connections, durationSec, timeoutSec: 10 })
      ctx.log(`health: warm-up ${warmupSec} s each`)
      await runLoad(spec(ctx.stack.url, warmupSec))
      await runLoad(spec(noMetrics.url, warmupSec))
      await runLoad(spec(baseline.url, warmupSec))
      await runLoad(spec(fastify.url, warmupSec))
      const stackPids = await apiWorkerPids(ctx)
      const targets = {
        stack: { url: ctx.stack.url, pids: stackPids },
        nometrics: { url: noMetrics.url, pids: (await workerProcesses(noMetrics.pm2Home)).map((w) => w.pid) },
        baseline: { url: baseline.url, pids: baseline.pids },
        fastify: { url: fastify.url, pids: fastify.pids }
      }
      const roundResults: HealthRound[] = []
      const last: Partial<Record<keyof typeof targets, MeasuredLoad>> = {}
      const stackP50: number[] = []
      for (let r = 0; r < rounds; r++) {
        // Alternating order cancels a drift of the machine's background load.
        const order = r % 2 === 0 ? ['baseline', 'stack', 'fastify', 'nometrics'] as const : ['nometrics', 'fastify', 'stack', 'baseline'] as const
        for (const which of order) {
          const measured = await measuredLoad(spec(targets[which].url, measureSec), targets[which].pids)
          checkLoad(ctx, `health ${which} round ${r + 1}`, measured.result)
          last[which] = measured
        }
        const s = last.stack!
        const b = last.baseline!
        const f = last.fastify!
        const n = last.nometrics!
        stackP50.push(s.result.latency.p50_ms)
        roundResults.push({
          stack_rps: s.result.rps,
          baseline_rps: b.result.rps,
          fastify_rps: f.result.rps,
          no_metrics_rps: n.result.rps,
          ratio: round(ratio(s.result.rps, b.result.rps), 4),
          stack_p99_ms: s.result.latency.p99_ms,
          baseline_p99_ms: b.result.latency.p99_ms,
          fastify_p99_ms: f.result.latency.p99_ms,
          no_metrics_p99_ms: n.result.latency.p99_ms,
          stack_cpu_ms_per_req: s.cpuMsPerOk,
          baseline_cpu_ms_per_req: b.cpuMsPerOk,
          fastify_cpu_ms_per_req: f.cpuMsPerOk,
          no_metrics_cpu_ms_per_req: n.cpuMsPerOk
        })
        ctx.log(`health: round ${r + 1}/${rounds}: stack ${s.result.rps} req/s p99 ${s.result.latency.p99_ms} ms ${round(s.cpuMsPerOk * 1000, 1)} us CPU/req, ` +
          `bare ${b.result.rps} req/s p99 ${b.result.latency.p99_ms} ms ${round(b.cpuMsPerOk * 1000, 1)} us CPU/req, ` +
          `bare Fastify ${f.result.rps} req/s p99 ${f.result.latency.p99_ms} ms ${round(f.cpuMsPerOk * 1000, 1)} us CPU/req, ` +
          `stack without metrics ${n.result.rps} req/s p99 ${n.result.latency.p99_ms} ms ${round(n.cpuMsPerOk * 1000, 1)} us CPU/req (load ${loadavg()[0]!.toFixed(2)})`)
      }
      const stackRps = median(roundResults.map((r) => r.stack_rps))
      const baselineRps = median(roundResults.map((r) => r.baseline_rps))
      const fastifyRps = median(roundResults.map((r) => r.fastify_rps))
      const stackCpu = median(roundResults.map((r) => r.stack_cpu_ms_per_req))
      const baselineCpu = median(roundResults.map((r) => r.baseline_cpu_ms_per_req))
      const fastifyCpu = median(roundResults.map((r) => r.fastify_cpu_ms_per_req))
      const noMetricsRps = median(roundResults.map((r) => r.no_metrics_rps))
      const noMetricsCpu = median(roundResults.map((r) => r.no_metrics_cpu_ms_per_req))
      const p99 = median(roundResults.map((r) => r.stack_p99_ms))
      const fastifyP99 = median(roundResults.map((r) => r.fastify_p99_ms))
      return {
        ratio: round(ratio(stackRps, baselineRps), 4),
        p99_ms: round(p99),
        p50_ms: round(median(stackP50)),
        rps: round(stackRps, 1),
        baseline_rps: round(baselineRps, 1),
        baseline_p99_ms: round(median(roundResults.map((r) => r.baseline_p99_ms))),
        connections,
        measure_s: measureSec,
        stack_cpu_us_per_req: round(stackCpu * 1000, 1),
        baseline_cpu_us_per_req: round(baselineCpu * 1000, 1),
        cpu_ratio: round(ratio(baselineCpu, stackCpu), 4),
        fastify_rps: round(fastifyRps, 1),
        fastify_p99_ms: round(fastifyP99),
        p99_over_fastify: round(ratio(p99, fastifyP99), 4),
        fastify_cpu_us_per_req: round(fastifyCpu * 1000, 1),
        fastify_ratio: round(ratio(fastifyRps, baselineRps), 4),
        fastify_cpu_ratio: round(ratio(baselineCpu, fastifyCpu), 4),
        stack_over_fastify: round(ratio(stackRps, fastifyRps), 4),
        no_metrics_rps: round(noMetricsRps, 1),
        no_metrics_p99_ms: round(median(roundResults.map((r) => r.no_metrics_p99_ms))),
        no_metrics_cpu_us_per_req: round(noMetricsCpu * 1000, 1),
        metrics_cost: round(1 - ratio(stackRps, noMetricsRps), 4),
        metrics_cpu_cost: round(ratio(stackCpu, noMetricsCpu) - 1, 4),
        rounds: roundResults,
        stack: figures(last.stack!.result, last.stack),
        baseline: figures(last.baseline!.result, last.baseline),
        fastify: figures(last.fastify!.result, last.fastify),
        no_metrics: figures(last.nometrics!.result, last.nometrics),
        stack_response_bytes: sample.bytes,
        baseline_response_bytes: baselineSample.bytes
      }
    } finally {
      await Promise.all([baseline.stop(), fastify.stop(), noMetrics.stop()])
    }
  })
}

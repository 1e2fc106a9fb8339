import { buildScenarioResult } from '../results.js'
import { errorChecks, expectationCheck } from './checks.js'
import { measured, meta, type ScenarioDefinition } from './context.js'
import { healthOp } from './ops.js'

export const health: ScenarioDefinition = {
  name: 'health',
  title: 'Health check load',
  description: 'GET /health, all requests concurrent: baseline server performance and connection handling. Expect 200.',
  run: async (ctx) => {
    const { requests, connections } = ctx.config.health
    const ops = Array.from({ length: requests }, () => healthOp(ctx.pool.newAddress()))
    const outcome = await measured(ctx, 'health', { ops, connections })
    const checks = [
      expectationCheck('health', 'every request answered 200', outcome.samples),
      ...errorChecks('health', outcome.samples)
    ]
    return buildScenarioResult({ ...meta(health), setupMs: 0, checks, notes: [], settings: { requests, connections } }, outcome)
  }
}

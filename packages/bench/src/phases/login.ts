// POST /auth/login against the bcrypt ceiling measured on this machine.
import { mapLimit } from '@documind/harness'
import bcrypt from 'bcrypt'
import { type BenchUser, postJson, signup } from '../api.js'
import { forkScript, stopChild } from '../children.js'
import type { LoadSpec } from '../load-types.js'
import { ratio, round } from '../stats.js'
import type { BcryptCeiling, LoginResult } from '../types.js'
import { apiWorkerPids, checkLoad, type Context, figures, measuredLoad, quiesce, withLoadAverages } from './measure.js'

interface ProbeResult { completed: number, elapsed_s: number, cpu_s: number }

/** `processes` bcrypt probes started together; each keeps `parallel` compares in flight. */
export async function bcryptProbes (processes: number, hash: string, password: string, parallel: number, seconds: number): Promise<ProbeResult[]> {
  const children = Array.from({ length: processes }, () => forkScript('bcrypt-probe', [hash, password, String(parallel), String(seconds)], {
    env: { ...process.env, UV_THREADPOOL_SIZE: String(parallel) }
  }))
  try {
    const ready = children.map(async (child) => await new Promise<void>((resolve, reject) => {
      child.once('message', () => resolve())
      child.once('exit', (code) => reject(new Error(`bcrypt probe exited (${code}) before it was ready`)))
    }))
    await Promise.all(ready)
    const results = children.map(async (child) => await new Promise<ProbeResult>((resolve, reject) => {
      child.on('message', (message: { type: string, completed?: number, elapsed_s?: number, cpu_s?: number, message?: string }) => {
        if (message.type === 'result') resolve({ completed: message.completed!, elapsed_s: message.elapsed_s!, cpu_s: message.cpu_s! })
        else if (message.type === 'error') reject(new Error(`bcrypt probe: ${message.message ?? ''}`))
      })
      child.send({ type: 'go' })
    }))
    return await Promise.all(results)
  } finally {
    await Promise.all(children.map(async (child) => await stopChild(child, 1000)))
  }
}

export async function measureBcryptCeiling (ctx: Context): Promise<BcryptCeiling> {
  const { workers, bcryptCost, plan } = ctx.options
  const parallel = ctx.uvThreadpoolSize
  ctx.log(`login: bcrypt ceiling, ${workers} processes x ${parallel} parallel compares, cost ${bcryptCost}`)
  const password = 'bench-password-1234'
  const hash = await bcrypt.hash(password, bcryptCost)
  const together = await bcryptProbes(workers, hash, password, parallel, plan.bcrypt.seconds)
  const alone = plan.bcrypt.singleProcess ? (await bcryptProbes(1, hash, password, parallel, plan.bcrypt.seconds))[0]! : undefined
  const ceiling = together.reduce((sum, r) => sum + r.completed / r.elapsed_s, 0)
  const compares = together.reduce((sum, r) => sum + r.completed, 0)
  const cpu = together.reduce((sum, r) => sum + r.cpu_s, 0)
  const single = alone === undefined ? Number.NaN : alone.completed / alone.elapsed_s
  return {
    cost: bcryptCost,
    parallel_per_worker: parallel,
    workers,
    ceiling_rps: round(ceiling, 3),
    single_process_rps: round(single, 3),
    naive_ceiling_rps: round(single * workers, 3),
    cpu_ms_per_compare: round(compares > 0 ? (cpu * 1000) / compares : Number.NaN, 2),
    measure_s: plan.bcrypt.seconds
  }
}

/** At least `count` users signed up through the API (bcrypt at the stack's cost). */
export async function ensureUsers (ctx: Context, count: number): Promise<BenchUser[]> {
  const missing = count - ctx.users.length
  if (missing > 0) {
    ctx.log(`setup: signing up ${missing} users`)
    const created = await mapLimit(Array.from({ length: missing }, (_, i) => i), ctx.options.workers * ctx.uvThreadpoolSize,
      async () => await signup(ctx.stack.url, 'bench'))
    ctx.users.push(...created)
  }
  return ctx.users.slice(0, count)
}

export async function loginPhase (ctx: Context): Promise<LoginResult> {
  return await withLoadAverages(async () => {
    const { plan } = ctx.options
    const { connections, warmupLogins, measureSec } = plan.login
    // Measured first, while nothing else runs: the machine's own bcrypt capacity.
    const bcrypt = await measureBcryptCeiling(ctx)
    ctx.log(`login: ceiling ${bcrypt.ceiling_rps} compares/s (one process ${bcrypt.single_process_rps})`)
    const users = await ensureUsers(ctx, plan.login.users)
    const spec = (durationSec: number): LoadSpec => ({
      url: ctx.stack.url,
      method: 'POST',
      path: '/auth/login',
      connections,
      durationSec,
      timeoutSec: 120,
      headers: { 'content-type': 'application/json' },
      variants: users.map((u) => ({ body: JSON.stringify({ email: u.email, password: u.password }) }))
    })
    // Warm-up: a few logins one after the other. (An aborted load run would leave its logins' bcrypt
    // work running in the workers, billed to the measurement.)
    ctx.log(`login: warm-up ${warmupLogins} logins, then ${measureSec} s at ${connections} connections`)
    for (const user of users.slice(0, warmupLogins)) {
      const res = await postJson(`${ctx.stack.url}/auth/login`, { email: user.email, password: user.password })
      if (res.status !== 200) throw new Error(`POST /auth/login failed: ${res.status} ${res.text.slice(0, 300)}`)
    }
    await quiesce(ctx, 'login warm-up')
    const measured = await measuredLoad(spec(measureSec), await apiWorkerPids(ctx))
    const load = measured.result
    checkLoad(ctx, 'login', load)
    ctx.log(`login: ${load.rps} req/s, p50 ${load.latency.p50_ms} ms, p99 ${load.latency.p99_ms} ms`)
    return {
      ratio: round(ratio(load.rps, bcrypt.ceiling_rps), 4),
      ratio_naive: round(ratio(load.rps, bcrypt.naive_ceiling_rps), 4),
      cpu_ratio: round(ratio(bcrypt.cpu_ms_per_compare, measured.cpuMsPerOk), 4),
      rps: load.rps,
      p50_ms: load.latency.p50_ms,
      p99_ms: load.latency.p99_ms,
      p99_over_p50: round(ratio(load.latency.p99_ms, load.latency.p50_ms), 3),
      connections,
      users: users.length,
      measure_s: measureSec,
      bcrypt,
      load: figures(load, measured)
    }
  })
}

// The callgrind referee: user-space instructions per GET /health of one API process (built like a
// PM2 worker, with a worker's environment: instructions-server.ts) and of one bare Fastify process answering the same
// response, each under `valgrind --tool=callgrind`. Instruction counts hardly move with the machine's
// background load, unlike req/s on a shared 2-core VM, so they decide between two versions of the code.
import { execFile } from 'node:child_process'
import { readdir, readFile } from 'node:fs/promises'
import http from 'node:http'
import { join } from 'node:path'
import { fileURLToPath } from 'node:url'
import { promisify } from 'node:util'
import { freePort, REPO_ROOT } from '@documind/harness'
import { httpJson } from '../api.js'
import { baselineHeaders } from '../baseline.js'
import { isRunning, spawnTracked, stopChild } from '../children.js'
import { median, ratio, round } from '../stats.js'
import type { InstructionsResult, InstructionsTarget } from '../types.js'
import { apiWorkerPids, type Context, withLoadAverages } from './measure.js'

const run = promisify(execFile)

/** Variables PM2 gives its workers for itself: a lone process must not act as a cluster member. */
function workerEnv (environ: string, port: number): Record<string, string> {
  const env: Record<string, string> = {}
  for (const entry of environ.split('\0')) {
    const eq = entry.indexOf('=')
    if (eq <= 0) continue
    const name = entry.slice(0, eq)
    // PM2's own variables are lower case (pm_id, exec_mode, ...) or PM2_*; NODE_APP_INSTANCE would
    // make this process bind (and replace) a worker's metrics socket, and node:cluster's NODE_UNIQUE_ID
    // and NODE_CHANNEL_* would make it a cluster worker asking a primary it has not got to listen.
    if (name !== name.toUpperCase() || name.startsWith('PM2_') || name.startsWith('NODE_CHANNEL_') ||
        name === 'NODE_APP_INSTANCE' || name === 'NODE_UNIQUE_ID') continue
    env[name] = entry.slice(eq + 1)
  }
  return { ...env, PORT: String(port), HOST: '127.0.0.1' }
}

/** `count` GET requests over `connections` keep-alive connections; every answer must be a 200. */
async function send (url: string, count: number, connections: number): Promise<void> {
  const agent = new http.Agent({ keepAlive: true, maxSockets: connections })
  let sent = 0
  let failure: Error | undefined
  try {
    await new Promise<void>((resolve) => {
      let active = 0
      const next = (): void => {
        if (failure !== undefined || sent >= count) {
          if (active === 0) resolve()
          return
        }
        sent++
        active++
        http.get(url, { agent }, (response) => {
          response.resume()
          response.on('end', () => {
            active--
            if (response.statusCode !== 200) failure ??= new Error(`GET ${url} answered ${response.statusCode}`)
            next()
          })
        }).on('error', (err) => { active--; failure ??= err; next() })
      }
      for (let i = 0; i < connections; i++) next()
    })
  } finally {
    agent.destroy()
  }
  if (failure !== undefined) throw failure
}

/** The instruction total (Ir) of a callgrind dump file. */
export function dumpInstructions (text: string): number {
  const match = /^summary:\s+(\d+)/m.exec(text) ?? /^totals:\s+(\d+)/m.exec(text)
  if (match === null) throw new Error('no summary line in the callgrind dump')
  return Number(match[1])
}

interface Plan { warmup: number, settle: number, requests: number, samples: number, connections: number, idleSec: number }

async function measure (ctx: Context, name: string, command: string[], env: NodeJS.ProcessEnv, port: number, plan: Plan): Promise<InstructionsTarget> {
  const outDir = join(ctx.workDir, `callgrind-${name}`)
  await run('mkdir', ['-p', outDir])
  // Instrumentation off while the process boots and warms up (several times faster under valgrind),
  // on for the counted samples only.
  const child = spawnTracked('valgrind', ['--tool=callgrind', '--instr-atstart=no', `--callgrind-out-file=${outDir}/callgrind.out.%p`, ...command], {
    env, stdio: ['ignore', 'pipe', 'pipe']
  })
  let output = ''
  const keep = (chunk: Buffer): void => { output = (output + chunk.toString()).slice(-4000) }
  child.stdout!.on('data', keep)
  child.stderr!.on('data', keep)
  const url = `http://127.0.0.1:${port}/health`
  try {
    // Under valgrind a process boots 20-50x slower.
    const deadline = Date.now() + 300_000
    for (;;) {
      if (!isRunning(child)) throw new Error(`${name} under valgrind exited: ${output}`)
      if (Date.now() > deadline) throw new Error(`${name} under valgrind did not answer within 300 s`)
      const ok = await httpJson(url).then((r) => r.status === 200, () => false)
      if (ok) break
      await new Promise((resolve) => setTimeout(resolve, 1000))
    }
    const pid = String(child.pid)
    // vgdb finds the process by FIFO names that contain $USER/$LOGNAME and $HOST: the target's values.
    const controlEnv = { ...process.env }
    for (const name of ['USER', 'LOGNAME', 'HOST']) {
      if (env[name] === undefined) delete controlEnv[name]
      else controlEnv[name] = env[name]
    }
    const control = async (command: string): Promise<void> => { await run('callgrind_control', [command, pid], { env: controlEnv }) }
    const started = performance.now()
    await send(url, plan.warmup, plan.connections)
    ctx.log(`instructions: ${name} warmed up with ${plan.warmup} requests in ${round((performance.now() - started) / 1000, 1)} s`)
    await control('--instr=on')
    // Counts settle only after some 8,000 requests with instrumentation on (consecutive samples of 2,000
    // requests of the API process measured 279k, 234k, 165k, 165k per request): these are not counted.
    await send(url, plan.settle, plan.connections)
    // Work on timers (the event-loop delay histogram samples every 10 ms, pool and limit-store sweeps)
    // is counted by wall time, not by request, and a sample under valgrind lasts seconds to minutes
    // depending on the machine's load. An idle sample gives that rate; each sample is corrected by its
    // own duration, so the figure is per request whatever the load.
    let dumps = 0
    const sample = async (during: () => Promise<void>): Promise<{ ir: number, seconds: number }> => {
      await control('--zero')
      const started = performance.now()
      await during()
      const seconds = (performance.now() - started) / 1000
      await control('--dump')
      // The dump is written by the process itself, a little after callgrind_control returns.
      const file = await waitForDump(outDir, ++dumps)
      return { ir: dumpInstructions(await readFile(file, 'utf8')), seconds }
    }
    const idle = await sample(async () => { await new Promise((resolve) => setTimeout(resolve, plan.idleSec * 1000)) })
    const idlePerSecond = idle.ir / idle.seconds
    const raw: number[] = []
    const samples: number[] = []
    for (let i = 0; i < plan.samples; i++) {
      const counted = await sample(async () => { await send(url, plan.requests, plan.connections) })
      raw.push(round(counted.ir / plan.requests, 0))
      samples.push(round(Math.max(0, counted.ir - idlePerSecond * counted.seconds) / plan.requests, 0))
    }
    ctx.log(`instructions: ${name} ${samples.join(', ')} per request (${raw.join(', ')} before taking off ${round(idlePerSecond, 0)} idle Ir/s)`)
    return { per_request: median(samples), samples, raw_samples: raw, idle_ir_per_s: round(idlePerSecond, 0) }
  } finally {
    await stopChild(child, 5000)
  }
}

async function waitForDump (dir: string, n: number): Promise<string> {
  const deadline = Date.now() + 60_000
  while (Date.now() < deadline) {
    const file = (await readdir(dir)).find((f) => f.endsWith(`.${n}`))
    if (file !== undefined) {
      const text = await readFile(join(dir, file), 'utf8')
      if (/^totals:/m.test(text) || /^summary:/m.test(text)) return join(dir, file)
    }
    await new Promise((resolve) => setTimeout(resolve, 200))
  }
  throw new Error(`callgrind dump ${n} did not appear in ${dir}`)
}

export async function instructionsPhase (ctx: Context): Promise<InstructionsResult> {
  return await withLoadAverages(async () => {
    const plan = ctx.options.plan.instructions
    const sample = await httpJson(`${ctx.stack.url}/health`)
    if (sample.status !== 200) throw new Error(`GET /health answered ${sample.status}`)
    const [workerPid] = await apiWorkerPids(ctx)
    if (workerPid === undefined) throw new Error('no API worker to copy the environment from')
    const environ = await readFile(`/proc/${workerPid}/environ`, 'utf8')

    const repo = ctx.options.repoRoot ?? REPO_ROOT
    const server = ['node', fileURLToPath(new URL('../instructions-server.js', import.meta.url))]
    const apiDist = join(repo, 'apps/api/dist')
    const appPort = await freePort()
    const app = await measure(ctx, 'app', server, { ...workerEnv(environ, appPort), API_DIST: apiDist }, appPort, plan)
    const offPort = await freePort()
    const off = await measure(ctx, 'app-no-metrics', server, { ...workerEnv(environ, offPort), API_DIST: apiDist, METRICS_ENABLED: 'false' }, offPort, plan)

    const barePort = await freePort()
    const bare = await measure(ctx, 'fastify', ['node', fileURLToPath(new URL('../baseline-server.js', import.meta.url))], {
      ...process.env,
      BASELINE_PORT: String(barePort),
      BASELINE_WORKERS: '0',
      BASELINE_KIND: 'fastify',
      BASELINE_RESPONSE: JSON.stringify({ headers: baselineHeaders(sample.headers), body: sample.text })
    }, barePort, plan)
    return {
      ratio: round(ratio(app.per_request, bare.per_request), 4),
      app_per_request: app.per_request,
      fastify_per_request: bare.per_request,
      app_no_metrics_per_request: off.per_request,
      metrics_cost: round(ratio(app.per_request, off.per_request) - 1, 4),
      app,
      app_no_metrics: off,
      fastify: bare,
      warmup_requests: plan.warmup,
      settle_requests: plan.settle,
      requests: plan.requests,
      connections: plan.connections
    }
  })
}

// Parent side of the reference clusters (baseline-server.ts): bare node:http, bare Fastify.
import { fileURLToPath } from 'node:url'
import { freePort } from '@documind/harness'
import { isRunning, spawnTracked, stopChild } from './children.js'

export interface Baseline {
  url: string
  /** The worker processes (for CPU accounting). */
  pids: number[]
  stop: () => Promise<void>
}

/** Headers node:http adds by itself (or that describe the connection); the rest is copied as-is. */
const CONNECTION_HEADERS = new Set(['date', 'connection', 'keep-alive', 'content-length', 'transfer-encoding'])

export function baselineHeaders (headers: Record<string, string>): Record<string, string> {
  return Object.fromEntries(Object.entries(headers).filter(([name]) => !CONNECTION_HEADERS.has(name.toLowerCase())))
}

export type BaselineKind = 'node' | 'fastify'

export async function startBaseline (workers: number, response: { headers: Record<string, string>, body: string }, kind: BaselineKind = 'node'): Promise<Baseline> {
  const port = await freePort()
  const file = fileURLToPath(new URL('./baseline-server.js', import.meta.url))
  const child = spawnTracked(process.execPath, [file], {
    env: {
      ...process.env,
      BASELINE_PORT: String(port),
      BASELINE_WORKERS: String(workers),
      BASELINE_KIND: kind,
      BASELINE_RESPONSE: JSON.stringify(response)
    },
    stdio: ['ignore', 'pipe', 'inherit']
  })
  let output = ''
  child.stdout!.on('data', (chunk: Buffer) => { output += chunk.toString() })
  const deadline = Date.now() + 20_000
  while (!/baseline ready \d+ pids [\d,]+\n/.test(output)) {
    if (!isRunning(child) || Date.now() > deadline) {
      await stopChild(child, 1000)
      throw new Error(`the bare ${kind === 'node' ? 'node:http' : 'Fastify'} cluster did not start: ${output}`)
    }
    await new Promise((resolve) => setTimeout(resolve, 50))
  }
  const pids = (/pids ([\d,]+)/.exec(output)?.[1] ?? '').split(',').map(Number)
  return { url: `http://127.0.0.1:${port}`, pids, stop: async () => await stopChild(child, 3000) }
}

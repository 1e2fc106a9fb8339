import { spawn, type ChildProcess } from 'node:child_process'
import { once } from 'node:events'
import { mkdtemp, rm } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join, resolve } from 'node:path'
import { fileURLToPath } from 'node:url'
import { freePort } from '@documind/harness'
import { createTestDatabase, testEnv, uniqueName } from './app.js'

export const REPO_ROOT = resolve(fileURLToPath(new URL('../../../..', import.meta.url)))
const LAUNCHER = join(REPO_ROOT, 'apps/api/dist/cli/start.js')

export interface Cluster {
  url: string
  dataDir: string
  output: () => string
  stop: () => Promise<number | null>
}

/**
 * Starts the real launcher (compiled code, PM2 cluster mode) on a free port, waits for readiness.
 * `env` replaces nothing silently: REDIS_URL is only set when given.
 */
export async function startCluster (env: NodeJS.ProcessEnv, options: { dataDir?: string, timeoutMs?: number } = {}): Promise<Cluster> {
  const timeoutMs = options.timeoutMs ?? 60_000
  const port = await freePort()
  // A given data directory belongs to the caller (it is kept); a temporary one is removed on stop.
  const dataDir = options.dataDir ?? await mkdtemp(join(tmpdir(), 'documind-cluster-'))
  const inherited = { ...process.env }
  delete inherited.REDIS_URL
  delete inherited.DATABASE_URL
  let output = ''
  const child: ChildProcess = spawn(process.execPath, [LAUNCHER], {
    cwd: REPO_ROOT,
    env: { ...inherited, PORT: String(port), HOST: '127.0.0.1', DATA_DIR: dataDir, LOG_LEVEL: 'warn', ...env },
    stdio: ['ignore', 'pipe', 'pipe']
  })
  child.stdout!.on('data', (chunk: Buffer) => { output += chunk.toString() })
  child.stderr!.on('data', (chunk: Buffer) => { output += chunk.toString() })
  const url = `http://127.0.0.1:${port}`

  const stop = async (): Promise<number | null> => {
    if (child.exitCode === null) {
      child.kill('SIGTERM')
      await once(child, 'exit')
    }
    if (options.dataDir === undefined) await rm(dataDir, { recursive: true, force: true })
    return child.exitCode
  }

  const deadline = Date.now() + timeoutMs
  while (!output.includes('DocuMind Voice API is ready')) {
    if (child.exitCode !== null || Date.now() > deadline) {
      await stop()
      throw new Error(`cluster did not start:\n${output}`)
    }
    await new Promise((resolve) => setTimeout(resolve, 100))
  }
  return { url, dataDir, output: () => output, stop }
}

/**
 * startCluster on a fresh database of its own, with the tests' settings (testEnv: secret, cost-4
 * bcrypt, own Redis key prefix) and 2 workers; `env` adds or overrides. `stop` also drops the database.
 */
export async function startTestCluster (label: string, env: Record<string, string> = {}, options: { sharedRedis?: boolean } = {}): Promise<Cluster & { databaseUrl: string }> {
  const db = await createTestDatabase(label)
  let cluster: Cluster
  try {
    cluster = await startCluster(testEnv(db.url, `${uniqueName(label)}:`, options.sharedRedis ?? false, { WEB_CONCURRENCY: '2', LOG_LEVEL: 'warn', ...env }))
  } catch (err) {
    await db.drop()
    throw err
  }
  return {
    ...cluster,
    databaseUrl: db.url,
    stop: async () => {
      try {
        return await cluster.stop()
      } finally {
        await db.drop()
      }
    }
  }
}

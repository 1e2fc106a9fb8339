// The system under test, started exactly as in production by the harness (the real launcher runs
// the API under PM2 in cluster mode) with every limit the bench would hit raised. Also: the
// throwaway database, PM2 worker discovery and per-process RSS.
import { execFile } from 'node:child_process'
import { randomBytes } from 'node:crypto'
import { readFile } from 'node:fs/promises'
import { createRequire } from 'node:module'
import { dirname, join } from 'node:path'
import { promisify } from 'node:util'
import { adminQuery, REPO_ROOT, startApi } from '@documind/harness'
import { spawnTracked } from './children.js'

/** The API's own dependencies (pm2, ioredis) are resolved from its package, which declares them. */
const apiRequire = createRequire(join(REPO_ROOT, 'apps/api/package.json'))

/** PIDs of the server processes serving one database (for CPU accounting); needs the server on this machine. */
export async function postgresBackendPids (adminUrl: string, database: string): Promise<number[]> {
  const rows = await adminQuery(adminUrl, 'SELECT pid FROM pg_stat_activity WHERE datname = $1 AND pid <> pg_backend_pid()', [database])
  return rows.map((r) => Number(r.pid))
}

interface RedisLike {
  scan: (cursor: string, ...args: Array<string | number>) => Promise<[string, string[]]>
  del: (...keys: string[]) => Promise<number>
  quit: () => Promise<unknown>
}

/** Deletes the Redis keys of one run (its key prefix). */
export async function deleteRedisKeys (redisUrl: string, prefix: string): Promise<number> {
  const { Redis } = apiRequire('ioredis') as { Redis: new (url: string, options: object) => RedisLike }
  const redis = new Redis(redisUrl, { lazyConnect: false, maxRetriesPerRequest: 1 })
  let deleted = 0
  try {
    let cursor = '0'
    do {
      const [nextCursor, keys] = await redis.scan(cursor, 'MATCH', `${prefix}*`, 'COUNT', 1000)
      cursor = nextCursor
      if (keys.length > 0) deleted += await redis.del(...keys)
    } while (cursor !== '0')
  } finally {
    await redis.quit()
  }
  return deleted
}

export interface StackOptions {
  /** Checkout whose apps/api/dist and pm2.config.js are started (default: this one). */
  repoRoot?: string
  workers: number
  bcryptCost: number
  /** undefined: embedded PostgreSQL started by the launcher. */
  databaseUrl: string | undefined
  redisUrl: string | undefined
  groqBaseUrl: string
  /** Extra environment, e.g. NODE_OPTIONS for --cpu-prof. */
  env?: Record<string, string>
  readyTimeoutMs?: number
}

export interface Stack {
  url: string
  dataDir: string
  pm2Home: string
  redisKeyPrefix: string
  launcherPid: number
  output: () => string
  stop: () => Promise<void>
}

/** Environment of the launcher; every limit the bench would hit is raised. */
export function stackEnv (options: StackOptions, port: number, dataDir: string, jwtSecret: string, redisKeyPrefix: string): Record<string, string> {
  return {
    PORT: String(port),
    HOST: '127.0.0.1',
    DATA_DIR: dataDir,
    WEB_CONCURRENCY: String(options.workers),
    ...(options.databaseUrl === undefined ? {} : { DATABASE_URL: options.databaseUrl }),
    ...(options.redisUrl === undefined ? {} : { REDIS_URL: options.redisUrl }),
    REDIS_KEY_PREFIX: redisKeyPrefix,
    SUPABASE_JWT_SECRET: jwtSecret,
    BCRYPT_COST: String(options.bcryptCost),
    LOG_LEVEL: 'warn',
    RATE_LIMIT_LOGIN: '1000000 per minute',
    RATE_LIMIT_SIGNUP: '1000000 per hour',
    RATE_LIMIT_DEFAULT: '100000000 per day; 100000000 per hour',
    GROQ_API_KEY: 'bench',
    GROQ_BASE_URL: options.groqBaseUrl,
    QUERY_LIMIT_PER_DAY: '1000000000',
    // Every /ask must reach the LLM: the answer cache would turn repeated questions into lookups.
    QUERY_CACHE_TTL: '0',
    ...options.env
  }
}

/** Starts the launcher on a free port in a temporary DATA_DIR and waits until it is ready. */
export async function startStack (options: StackOptions): Promise<Stack> {
  const redisKeyPrefix = `bench_${randomBytes(4).toString('hex')}:`
  const jwtSecret = randomBytes(48).toString('base64url')
  const api = await startApi({
    repoRoot: options.repoRoot ?? REPO_ROOT,
    workers: options.workers,
    // Nothing of the caller's configuration leaks in: only what stackEnv() sets.
    inherit: (name) => !INHERITED_NOT.has(name) && !name.startsWith('RATE_LIMIT_') && !name.startsWith('PM2_'),
    env: ({ port, dataDir }) => stackEnv(options, port, dataDir, jwtSecret, redisKeyPrefix),
    tmpPrefix: 'documind-bench-',
    readyTimeoutMs: options.readyTimeoutMs ?? 120_000,
    spawn: spawnTracked
  })
  return { url: api.url, dataDir: api.dataDir, pm2Home: api.pm2Home, redisKeyPrefix, launcherPid: api.pid, output: () => api.logTail(4000), stop: api.stop }
}

const INHERITED_NOT = new Set(['DATABASE_URL', 'REDIS_URL', 'NODE_OPTIONS', 'PORT', 'DATA_DIR', 'QUERY_CACHE_TTL'])

export interface WorkerProcess {
  pmId: number
  pid: number
  status: string
  /** PM2's own memory figure (bytes). */
  pm2MemoryBytes: number
  restarts: number
}

/** Parses `pm2 jlist` output: the JSON is the line that starts with `[{` (or `[]`). */
export function parseJlist (stdout: string): WorkerProcess[] {
  const line = stdout.split('\n').find((l) => l.startsWith('[{') || l.trim() === '[]')
  if (line === undefined) throw new Error('pm2 jlist printed no process list')
  const list = JSON.parse(line) as Array<{ pid: number, pm_id: number, pm2_env?: { status?: string, restart_time?: number }, monit?: { memory?: number } }>
  return list.map((p) => ({
    pmId: p.pm_id,
    pid: p.pid,
    status: p.pm2_env?.status ?? 'unknown',
    pm2MemoryBytes: p.monit?.memory ?? 0,
    restarts: p.pm2_env?.restart_time ?? 0
  }))
}

/** The API workers, as PM2 knows them (PM2_HOME=<DATA_DIR>/pm2 pm2 jlist). */
export async function workerProcesses (pm2Home: string): Promise<WorkerProcess[]> {
  const pm2Bin = join(dirname(apiRequire.resolve('pm2/package.json')), 'bin/pm2')
  const { stdout } = await promisify(execFile)(process.execPath, [pm2Bin, 'jlist'], {
    env: { ...process.env, PM2_HOME: pm2Home },
    timeout: 20_000,
    maxBuffer: 16 * 1024 * 1024
  })
  return parseJlist(stdout).sort((a, b) => a.pmId - b.pmId)
}

/** VmRSS of a process in MB (1 MB = 2^20 bytes), from /proc/<pid>/status; NaN when unreadable. */
export async function rssMb (pid: number): Promise<number> {
  try {
    return parseVmRssMb(await readFile(`/proc/${pid}/status`, 'utf8'))
  } catch {
    return Number.NaN
  }
}

export function parseVmRssMb (status: string): number {
  const match = /^VmRSS:\s+(\d+)\s+kB/m.exec(status)
  return match === null ? Number.NaN : Number(match[1]) / 1024
}

/** CPU time (user + system, all threads) of a process in seconds, from /proc/<pid>/stat; NaN when unreadable. */
export async function cpuSeconds (pid: number, ticksPerSecond = 100): Promise<number> {
  try {
    return parseCpuTicks(await readFile(`/proc/${pid}/stat`, 'utf8')) / ticksPerSecond
  } catch {
    return Number.NaN
  }
}

/** utime + stime (fields 14 and 15) of a /proc/<pid>/stat line; the command name may contain spaces. */
export function parseCpuTicks (stat: string): number {
  const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ')
  // fields[0] is field 3 (state), so utime (14) and stime (15) are at 11 and 12.
  return Number(fields[11]) + Number(fields[12])
}

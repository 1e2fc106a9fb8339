#!/usr/bin/env node
// `npm start`: the zero-config launcher. Without DATABASE_URL it runs an embedded PostgreSQL under
// ./.data, keeps a generated JWT secret there, migrates once, then runs the API under PM2 in cluster
// mode (pm2.config.js) in this process, streams the workers' logs, and prints one banner.
// Ctrl-C, SIGTERM or `npm stop` stops the workers, then the embedded database.
import { mkdir, rm, writeFile } from 'node:fs/promises'
import { dirname, join, resolve } from 'node:path'
import { fileURLToPath } from 'node:url'
import { format, promisify } from 'node:util'
import { loadConfig, type MetricsConfig } from '../config.js'
import { migrate } from '../db/migrate.js'
import { readOrCreateSecret, startEmbeddedPostgres, type EmbeddedDatabase } from './embedded-postgres.js'

const REPO_ROOT = resolve(dirname(fileURLToPath(import.meta.url)), '../../../..')
const PM2_CONFIG = join(REPO_ROOT, 'pm2.config.js')
const APP_NAME = 'documind-api'
const READY_TIMEOUT_MS = 60_000

// Written to the streams directly: once PM2 is connected, console.* carries PM2's own messages (below).
const say = (message: string): void => { process.stdout.write(`[documind] ${message}\n`) }
const sayError = (message: string): void => { process.stderr.write(`[documind] ${message}\n`) }

let config
try {
  config = loadConfig()
} catch (err) {
  console.error(`[documind] invalid configuration: ${(err as Error).message}`)
  process.exit(1)
}

await mkdir(config.dataDir, { recursive: true })
const pidFile = join(config.dataDir, 'launcher.pid')
// PM2 reads PM2_HOME when it loads, so it is set before the import; one home per data directory
// keeps several stacks (tests, load tests) on one machine apart.
process.env.PM2_HOME = join(config.dataDir, 'pm2')
const { default: pm2 } = await import('pm2')

let embedded: EmbeddedDatabase | undefined
let pm2Connected = false
let stopping = false

async function shutdown (code: number): Promise<never> {
  if (stopping) return await new Promise(() => {})
  stopping = true
  say('stopping...')
  try {
    // Deleting the app stops every worker (SIGINT, then SIGKILL after kill_timeout). PM2's God runs in
    // this process (no-daemon mode), so there is no daemon to kill: exiting ends it.
    // (Calling PM2 before connect() would spawn a daemon, so only a connected God is asked.)
    if (pm2Connected) {
      await promisify(pm2.delete.bind(pm2))(APP_NAME)
        .then(() => { say('workers stopped') })
        .catch((err: unknown) => { sayError(`the workers did not stop cleanly: ${(err as Error).message}`) })
    }
  } finally {
    if (embedded !== undefined) {
      await embedded.stop().catch((err: unknown) => { sayError(`embedded PostgreSQL did not stop cleanly: ${format(err)}`) })
      say('embedded PostgreSQL stopped')
    }
    await rm(pidFile, { force: true })
  }
  say('stopped')
  process.exit(code)
}

const onSignal = (): void => { shutdown(0).catch(() => process.exit(1)) }
const SIGNALS = ['SIGINT', 'SIGTERM', 'SIGQUIT'] as const
for (const signal of SIGNALS) process.on(signal, onSignal)

/**
 * PM2's in-process God and embedded-postgres (async-exit-hook) install their own signal handlers,
 * which stop things in no particular order and exit at once. Ours stops the workers first, then the
 * database, so theirs are removed.
 */
function keepOnlyOurSignalHandlers (): void {
  for (const signal of SIGNALS) {
    for (const listener of process.listeners(signal)) {
      if (listener !== onSignal) process.removeListener(signal, listener)
    }
  }
}

/**
 * PM2's God runs in this process (no-daemon mode) and replaces console.log/info/warn/error with
 * versions that prefix `<time>: PM2 log: `; everything it reports goes through them. While the workers
 * are being stopped it reports a normal, graceful stop as noise: it polls every 100 ms until a draining
 * worker has exited and logs each poll as "failed to kill - retrying in 100ms" (nothing is retried),
 * and with exp_backoff_restart_delay set it logs "will restart in 100ms" for every exit, although a
 * stopped app is never restarted. So while stopping, those routine messages are dropped (our own
 * "workers stopped" line replaces them); anything else PM2 says, such as a SIGKILL after kill_timeout
 * or a worker exiting with an error code, still shows.
 */
const ROUTINE_STOP_MESSAGES = [
  /^Stopping app:/,
  /msg=failed to kill - retrying in \d+ms$/,
  /msg=process tree killed/,
  /^App name:\S+ id:\d+ disconnected$/,
  /^App \[[^\]]+\] exited with code \[0\] via signal \[\w+\]$/,
  /^App \[[^\]]+\] will restart in \d+ms$/
]

function quietPm2WhileStopping (): void {
  for (const method of ['log', 'info', 'warn', 'error'] as const) {
    const pm2Method = console[method]
    console[method] = (...args: unknown[]): void => {
      if (stopping && ROUTINE_STOP_MESSAGES.some((pattern) => pattern.test(format(...args)))) return
      pm2Method(...args)
    }
  }
}

async function waitForReady (url: string): Promise<void> {
  const deadline = Date.now() + READY_TIMEOUT_MS
  let last = 'no answer'
  while (Date.now() < deadline) {
    try {
      const res = await fetch(url, { signal: AbortSignal.timeout(2000) })
      if (res.ok) return
      last = `${res.status} ${await res.text()}`
    } catch (err) {
      last = (err as Error).message
    }
    await new Promise((resolve) => setTimeout(resolve, 250))
  }
  throw new Error(`the API did not become ready within ${READY_TIMEOUT_MS / 1000} s (${last})`)
}

/** How to scrape /metrics, for the banner: the token's file, never the token itself. */
function metricsBanner (baseUrl: string, token: string | undefined, metrics: MetricsConfig, dataDir: string): string {
  if (!metrics.enabled) return 'off (METRICS_ENABLED=false)'
  const ways = []
  if (token !== undefined) {
    const source = metrics.token === undefined ? `$(cat ${join(dataDir, 'metrics-token')})` : '$METRICS_TOKEN'
    ways.push(`${baseUrl}/metrics with header "Authorization: Bearer ${source}"`)
  }
  if (metrics.port !== undefined) {
    const host = metrics.host.includes(':') ? `[${metrics.host}]` : metrics.host
    ways.push(`http://${host}:${metrics.port}/metrics (no token)`)
  }
  return ways.join('; ')
}

try {
  await writeFile(pidFile, `${process.pid}\n`)
  let databaseUrl = config.databaseUrl
  let jwtSecret = config.jwtSecret
  if (databaseUrl === undefined) {
    embedded = await startEmbeddedPostgres(config.dataDir, say)
    keepOnlyOurSignalHandlers()
    databaseUrl = embedded.url
    // Zero-config mode only: one secret, generated once, shared by every worker and every restart.
    jwtSecret ??= await readOrCreateSecret(join(config.dataDir, 'jwt-secret'))
  }
  if (jwtSecret === undefined) {
    throw new Error('SUPABASE_JWT_SECRET (or JWT_SECRET) is required when DATABASE_URL is set')
  }
  // Metrics are never public by default: /metrics on the API port wants this token (METRICS_TOKEN),
  // generated once like the JWT secret, unless only the separate METRICS_PORT listener is wanted.
  let metricsToken = config.metrics.token
  if (metricsToken === undefined && config.metrics.port === undefined && config.metrics.enabled) {
    metricsToken = await readOrCreateSecret(join(config.dataDir, 'metrics-token'), 32)
  }
  await migrate(databaseUrl, { info: say })

  await promisify(pm2.connect.bind(pm2, true))()
  pm2Connected = true
  keepOnlyOurSignalHandlers()
  quietPm2WhileStopping()
  const bus = await promisify(pm2.launchBus.bind(pm2))() as { on: (event: string, fn: (packet: { data: string }) => void) => void }
  bus.on('log:out', (packet) => { process.stdout.write(packet.data) })
  bus.on('log:err', (packet) => { process.stderr.write(packet.data) })

  // Workers inherit this environment; the migrations already ran, so they skip them.
  Object.assign(process.env, {
    DATABASE_URL: databaseUrl,
    SUPABASE_JWT_SECRET: jwtSecret,
    DATA_DIR: config.dataDir,
    DB_MIGRATE_ON_BOOT: 'false',
    WEB_CONCURRENCY: String(config.workers),
    ...(metricsToken === undefined ? {} : { METRICS_TOKEN: metricsToken })
  })
  await new Promise<void>((resolve, reject) => {
    pm2.start(PM2_CONFIG, (err) => { err === null || err === undefined ? resolve() : reject(err) })
  })

  const host = config.host === '0.0.0.0' || config.host === '::' ? '127.0.0.1' : config.host
  const baseUrl = `http://${host.includes(':') ? `[${host}]` : host}:${config.port}`
  await waitForReady(`${baseUrl}/health/ready`)

  const line = (label: string, value: string): string => `  ${label.padEnd(12)} ${value}`
  process.stdout.write([
    '',
    'DocuMind Voice API is ready',
    line('URL', baseUrl),
    line('Workers', `${config.workers} (PM2 cluster mode)`),
    line('Postgres', embedded === undefined ? 'external (DATABASE_URL)' : `embedded, data in ${embedded.dir}, port ${embedded.port}`),
    line('Limit store', config.redisUrl === undefined ? 'Postgres (shared by all workers; set REDIS_URL for Redis)' : 'Redis (REDIS_URL)'),
    line('LLM', config.groq.apiKey === undefined ? 'offline extractive answers (set GROQ_API_KEY for Groq)' : `Groq, model ${config.groq.model}`),
    line('Mail', config.smtpUrl === undefined ? `written to ${join(config.dataDir, 'mail')} (set SMTP_URL to send)` : 'SMTP (SMTP_URL)'),
    line('Metrics', metricsBanner(baseUrl, metricsToken, config.metrics, config.dataDir)),
    // `npm stop` runs from the repository root and finds the launcher through its DATA_DIR.
    line('Stop', `Ctrl-C, or \`${config.dataDir === join(REPO_ROOT, '.data') ? '' : `DATA_DIR=${config.dataDir} `}npm stop\` from another terminal`),
    ''
  ].join('\n') + '\n')
} catch (err) {
  sayError((err as Error).message)
  await shutdown(1)
}

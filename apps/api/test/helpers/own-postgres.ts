import { execFile } from 'node:child_process'
import { readdirSync } from 'node:fs'
import { chown, mkdtemp, readFile, rm } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { promisify } from 'node:util'
import pg from 'pg'
import { freePort } from '@documind/harness'

const run = promisify(execFile)

/** The newest PostgreSQL installed from Debian packages (initdb and pg_ctl live there, not on PATH). */
function postgresBin (): string {
  const versions = readdirSync('/usr/lib/postgresql').filter((v) => /^\d+$/.test(v)).sort((a, b) => Number(b) - Number(a))
  if (versions[0] === undefined) throw new Error('no PostgreSQL under /usr/lib/postgresql')
  return `/usr/lib/postgresql/${versions[0]}/bin`
}

const isRoot = process.getuid?.() === 0

/**
 * A throwaway PostgreSQL cluster for fault tests (they stop, restart and kill it; never the shared
 * server on 5432). Data under a temp dir, loopback TCP on a free port, its socket in the same dir.
 * PostgreSQL refuses to run as root, so as root every command runs as the `postgres` user.
 */
export class OwnPostgres {
  private constructor (readonly dir: string, readonly port: number) {}

  static async start (): Promise<OwnPostgres> {
    const dir = await mkdtemp(join(tmpdir(), 'documind-own-pg-'))
    if (isRoot) {
      const { stdout } = await run('id', ['-u', 'postgres'])
      const { stdout: gid } = await run('id', ['-g', 'postgres'])
      await chown(dir, Number(stdout.trim()), Number(gid.trim()))
    }
    const server = new OwnPostgres(dir, await freePort())
    await server.cmd('initdb', ['-D', server.dataDir, '-U', 'postgres', '-A', 'trust', '-E', 'UTF8', '--no-sync', '--no-instructions'])
    await server.start()
    return server
  }

  get dataDir (): string {
    return join(this.dir, 'data')
  }

  /** Connection string of a database on this server (default: the `postgres` database). */
  url (database = 'postgres'): string {
    return `postgres://postgres@127.0.0.1:${this.port}/${database}`
  }

  private async cmd (name: string, args: string[]): Promise<string> {
    const bin = join(postgresBin(), name)
    const [file, argv] = isRoot ? ['runuser', ['-u', 'postgres', '--', bin, ...args]] : [bin, args]
    const { stdout } = await run(file, argv, { cwd: this.dir, timeout: 60_000 })
    return stdout
  }

  async start (): Promise<void> {
    const options = [
      `-p ${this.port}`, '-c listen_addresses=127.0.0.1', `-c unix_socket_directories=${this.dir}`,
      '-c fsync=off', '-c synchronous_commit=off', '-c full_page_writes=off', '-c max_connections=100'
    ].join(' ')
    await this.cmd('pg_ctl', ['-D', this.dataDir, '-l', join(this.dir, 'server.log'), '-o', options, '-w', '-t', '30', 'start'])
  }

  /** `fast` disconnects clients and shuts down cleanly; `immediate` is a crash (recovery on next start). */
  async stop (mode: 'fast' | 'immediate' = 'fast'): Promise<void> {
    await this.cmd('pg_ctl', ['-D', this.dataDir, '-m', mode, '-w', '-t', '30', 'stop'])
  }

  /** SIGKILL of the postmaster, the harshest outage; its backends exit on their own once it is gone. */
  async kill (): Promise<void> {
    const pid = Number((await readFile(join(this.dataDir, 'postmaster.pid'), 'utf8')).split('\n')[0])
    process.kill(pid, 'SIGKILL')
    // Wait until nothing answers any more, and the backends have noticed their parent is gone.
    const deadline = Date.now() + 10_000
    while (Date.now() < deadline && await this.accepts()) await new Promise((resolve) => setTimeout(resolve, 50))
    await new Promise((resolve) => setTimeout(resolve, 500))
  }

  async accepts (): Promise<boolean> {
    const client = new pg.Client({ connectionString: this.url(), connectionTimeoutMillis: 1000 })
    try {
      await client.connect()
      await client.query('SELECT 1')
      return true
    } catch {
      return false
    } finally {
      await client.end().catch(() => {})
    }
  }

  async createDatabase (name: string): Promise<string> {
    const client = new pg.Client({ connectionString: this.url() })
    await client.connect()
    try {
      await client.query(`CREATE DATABASE "${name}"`)
    } finally {
      await client.end()
    }
    return this.url(name)
  }

  async log (): Promise<string> {
    return await readFile(join(this.dir, 'server.log'), 'utf8').catch(() => '')
  }

  /** Stops the server (if running) and removes its files. */
  async destroy (): Promise<void> {
    await this.stop('immediate').catch(() => {})
    await rm(this.dir, { recursive: true, force: true })
  }
}

import { spawn, type ChildProcess } from 'node:child_process'
import { once } from 'node:events'
import { createConnection } from 'node:net'
import { freePort } from '@documind/harness'

/** A throwaway redis-server for fault tests: they kill, freeze and restart it, never the shared one. */
export class OwnRedis {
  private child: ChildProcess | undefined
  private constructor (readonly port: number) {}

  static async start (): Promise<OwnRedis> {
    const redis = new OwnRedis(await freePort())
    await redis.start()
    return redis
  }

  get url (): string {
    return `redis://127.0.0.1:${this.port}`
  }

  async start (): Promise<void> {
    this.child = spawn('redis-server', ['--port', String(this.port), '--bind', '127.0.0.1', '--save', '', '--appendonly', 'no'], { stdio: 'ignore' })
    const deadline = Date.now() + 10_000
    while (!await this.accepts()) {
      if (Date.now() > deadline) throw new Error('redis-server did not start')
      await new Promise((resolve) => setTimeout(resolve, 50))
    }
  }

  private async accepts (): Promise<boolean> {
    return await new Promise((resolve) => {
      const socket = createConnection({ port: this.port, host: '127.0.0.1' })
      socket.once('connect', () => { socket.destroy(); resolve(true) })
      socket.once('error', () => resolve(false))
    })
  }

  async kill (): Promise<void> {
    const child = this.child
    if (child === undefined || child.exitCode !== null) return
    child.kill('SIGKILL')
    await once(child, 'exit')
    this.child = undefined
  }

  /** Keeps connections open but answers nothing, like a partitioned or hung server. */
  freeze (): void { this.child?.kill('SIGSTOP') }
  thaw (): void { this.child?.kill('SIGCONT') }
}

import { Agent, request } from 'node:http'
import type { AddressInfo } from 'node:net'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { buildTestApp, type TestApp } from '../../helpers/app.js'

/** One GET over a real socket (app.inject bypasses the server's 'request' listeners). */
async function get (port: number, path: string, agent: Agent): Promise<{ status: number, connection: string | undefined, body: string }> {
  return await new Promise((resolve, reject) => {
    const req = request({ host: '127.0.0.1', port, path, agent }, (res) => {
      let body = ''
      res.setEncoding('utf8')
      res.on('data', (chunk: string) => { body += chunk })
      res.on('end', () => resolve({ status: res.statusCode ?? 0, connection: res.headers.connection, body }))
    })
    req.on('error', reject)
    req.end()
  })
}

describe('draining', () => {
  let t: TestApp
  let port: number
  beforeAll(async () => {
    t = await buildTestApp({ label: 'drain' })
    await t.app.listen({ port: 0, host: '127.0.0.1' })
    port = (t.app.server.address() as AddressInfo).port
  })
  afterAll(async () => { await t.close() })

  it('keeps connections alive until it starts, then answers every request with Connection: close', async () => {
    const agent = new Agent({ keepAlive: true, maxSockets: 1 })
    try {
      const before = await get(port, '/health', agent)
      expect(before).toMatchObject({ status: 200, connection: 'keep-alive' })
      expect(t.app.gracefulShutdown.draining).toBe(false)

      t.app.gracefulShutdown.startDraining()
      t.app.gracefulShutdown.startDraining() // idempotent: one listener, one header
      expect(t.app.gracefulShutdown.draining).toBe(true)
      expect(t.app.server.listeners('request').length).toBe(2)

      // Still serving, on the same keep-alive socket, but telling the client to go elsewhere.
      const health = await get(port, '/health', agent)
      expect(health).toMatchObject({ status: 200, connection: 'close' })
      const ready = await get(port, '/health/ready', agent)
      expect(ready).toMatchObject({ status: 503, connection: 'close' })
      expect(JSON.parse(ready.body)).toMatchObject({ status: 'draining' })
      const missing = await get(port, '/no-such-route', agent)
      expect(missing).toMatchObject({ status: 404, connection: 'close' })
    } finally {
      agent.destroy()
    }
  })
})

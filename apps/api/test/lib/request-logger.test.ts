import { Writable } from 'node:stream'
import Fastify from 'fastify'
import { describe, expect, it } from 'vitest'
import { RequestLogger, requestLoggerFactory } from '../../src/lib/request-logger.js'

/** A Fastify app logging JSON lines to an array, with or without the lazy request logger. */
async function appWith (lazy: boolean): Promise<{ lines: Array<Record<string, unknown>>, app: ReturnType<typeof Fastify> }> {
  const lines: Array<Record<string, unknown>> = []
  const stream = new Writable({
    write (chunk: Buffer, _encoding, done) {
      lines.push(JSON.parse(chunk.toString()) as Record<string, unknown>)
      done()
    }
  })
  const app = Fastify({ logger: { level: 'info', stream }, disableRequestLogging: true, ...(lazy ? { childLoggerFactory: requestLoggerFactory } : {}) })
  app.get('/quiet', async (request) => ({ lazy: request.log instanceof RequestLogger }))
  app.get('/loud', async (request) => {
    request.log.info({ part: 1 }, 'first')
    request.log.debug('hidden at info')
    request.log.warn('second')
    request.log.child({ extra: true }).error('third')
    return { level: request.log.level }
  })
  await app.ready()
  return { lines, app }
}

describe('request logger', () => {
  it('writes the lines pino\'s per-request child writes, reqId included', async () => {
    const strip = (lines: Array<Record<string, unknown>>): unknown[] => lines.map(({ time: _time, pid: _pid, hostname: _hostname, ...rest }) => rest)
    const results = []
    for (const lazy of [true, false]) {
      const { lines, app } = await appWith(lazy)
      const response = await app.inject({ url: '/loud', headers: { 'request-id': 'x' } })
      expect(response.json()).toEqual({ level: 'info' })
      results.push(strip(lines))
      await app.close()
    }
    expect(results[0]).toEqual(results[1])
    expect(results[0]).toEqual([
      { level: 30, reqId: 'req-1', part: 1, msg: 'first' },
      { level: 40, reqId: 'req-1', msg: 'second' },
      { level: 50, reqId: 'req-1', extra: true, msg: 'third' }
    ])
  })

  it('is what request.log is', async () => {
    const { app } = await appWith(true)
    const response = await app.inject({ url: '/quiet' })
    expect(response.json()).toEqual({ lazy: true })
    await app.close()
  })
})

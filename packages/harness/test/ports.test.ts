import { createServer } from 'node:net'
import { describe, expect, it } from 'vitest'
import { mapLimit } from '../src/concurrency.js'
import { freePort } from '../src/ports.js'

describe('freePort', () => {
  it('gives a port a server can then listen on', async () => {
    const port = await freePort()
    expect(port).toBeGreaterThan(0)
    const server = createServer()
    await new Promise<void>((resolve, reject) => { server.once('error', reject); server.listen(port, '127.0.0.1', resolve) })
    await new Promise<void>((resolve) => server.close(() => resolve()))
  })

  it('rejects when the host cannot be bound', async () => {
    await expect(freePort('192.0.2.1')).rejects.toThrow()
  })
})

describe('mapLimit', () => {
  it('keeps the order of results and never exceeds the limit', async () => {
    let inFlight = 0
    let most = 0
    const out = await mapLimit([5, 1, 4, 2, 3], 2, async (n, i) => {
      most = Math.max(most, ++inFlight)
      await new Promise((resolve) => setImmediate(resolve))
      inFlight--
      return n * 10 + i
    })
    expect(out).toEqual([50, 11, 42, 23, 34])
    expect(most).toBe(2)
  })

  it('handles no items and a limit below 1', async () => {
    expect(await mapLimit([], 4, async (n: number) => n)).toEqual([])
    expect(await mapLimit([1, 2], 0, async (n) => n + 1)).toEqual([2, 3])
  })
})

import { describe, expect, it } from 'vitest'
import { loadConfig } from '../../../../src/config.js'
import { createLimiter } from '../../../../src/plugins/app/users/password-hasher.js'

describe('bcrypt concurrency limiter', () => {
  it('runs at most N tasks at once, the rest in arrival order', async () => {
    const limit = createLimiter(2)
    let running = 0
    let peak = 0
    const started: number[] = []
    const task = (i: number) => async () => {
      started.push(i)
      running++
      peak = Math.max(peak, running)
      await new Promise((resolve) => setTimeout(resolve, 10))
      running--
      return i
    }
    const results = await Promise.all([0, 1, 2, 3, 4, 5].map(async (i) => await limit(task(i))))
    expect(results).toEqual([0, 1, 2, 3, 4, 5])
    expect(peak).toBe(2)
    expect(started).toEqual([0, 1, 2, 3, 4, 5])
  })

  it('frees its slot when a task fails', async () => {
    const limit = createLimiter(1)
    await expect(limit(async () => { throw new Error('boom') })).rejects.toThrow('boom')
    expect(await limit(async () => 'next')).toBe('next')
  })

  it('defaults to the worker share of the CPUs', () => {
    expect(loadConfig({ WEB_CONCURRENCY: '1000' }).bcryptConcurrency).toBe(1)
    expect(loadConfig({ BCRYPT_CONCURRENCY: '3' }).bcryptConcurrency).toBe(3)
  })
})

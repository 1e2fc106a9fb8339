import pg from 'pg'
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest'
import { TickBatcher } from '../src/lib/tick-batcher.js'
import { PostgresKvStore } from '../src/plugins/app/kv-store.js'
import { buildTestApp, type TestApp } from './helpers/app.js'

describe('TickBatcher', () => {
  it('runs the calls of one event-loop turn as one batch, in order, split at maxBatch', async () => {
    const batches: number[][] = []
    const batcher = new TickBatcher<number, number>(async (inputs) => {
      batches.push(inputs)
      return inputs.map((n) => n * 2)
    }, 3)
    const first = await Promise.all([1, 2, 3, 4, 5].map(async (n) => await batcher.add(n)))
    expect(first).toEqual([2, 4, 6, 8, 10])
    expect(batches).toEqual([[1, 2, 3], [4, 5]])
    // A later turn is a new batch.
    expect(await batcher.add(6)).toBe(12)
    expect(batches).toHaveLength(3)
  })

  it('rejects every call of a failed batch, and only those', async () => {
    let fail = true
    const batcher = new TickBatcher<string, string>(async (inputs) => {
      if (fail) throw new Error('store down')
      return inputs
    })
    const results = await Promise.allSettled([batcher.add('a'), batcher.add('b')])
    expect(results.map((r) => r.status)).toEqual(['rejected', 'rejected'])
    fail = false
    expect(await batcher.add('c')).toBe('c')
  })
})

describe('PostgresKvStore (batched reads and writes)', () => {
  let t: TestApp
  let kv: PostgresKvStore
  let otherPool: pg.Pool
  let otherWorker: PostgresKvStore

  beforeAll(async () => {
    t = await buildTestApp({ label: 'kv_store', redis: false })
    kv = t.app.kv as PostgresKvStore
    expect(kv.kind).toBe('postgres')
    otherPool = new pg.Pool({ connectionString: t.databaseUrl, max: 4 })
    otherWorker = new PostgresKvStore(otherPool)
  })
  afterAll(async () => {
    await otherPool.end()
    await t.close()
  })

  it('answers concurrent gets with one statement, duplicates and missing keys included', async () => {
    await Promise.all([kv.set('a', '1', 60_000), kv.set('b', '2', 60_000)])
    const query = vi.spyOn(t.app.pg, 'query')
    try {
      const values = await Promise.all(['a', 'b', 'a', 'missing'].map(async (k) => await kv.get(k)))
      expect(values).toEqual(['1', '2', '1', null])
      expect(query).toHaveBeenCalledTimes(1)
    } finally {
      query.mockRestore()
    }
  })

  it('writes concurrent sets with one statement; the last write of a key wins; TTLs hold', async () => {
    const query = vi.spyOn(t.app.pg, 'query')
    try {
      await Promise.all([kv.set('c', 'first', 60_000), kv.set('d', 'short', 1), kv.set('c', 'second', 60_000)])
      expect(query).toHaveBeenCalledTimes(1)
    } finally {
      query.mockRestore()
    }
    await new Promise((resolve) => setTimeout(resolve, 20))
    expect(await kv.get('c')).toBe('second')
    expect(await kv.get('d')).toBeNull()
  })

  it('fails every caller of a batch when the statement fails, then works again', async () => {
    const query = vi.spyOn(t.app.pg, 'query').mockRejectedValueOnce(new Error('Connection terminated unexpectedly') as never)
    try {
      const results = await Promise.allSettled([kv.get('a'), kv.get('b')])
      expect(results.map((r) => r.status)).toEqual(['rejected', 'rejected'])
    } finally {
      query.mockRestore()
    }
    expect(await kv.get('a')).toBe('1')
  })

  it('two workers writing the same keys in opposite orders do not deadlock', async () => {
    const keys = Array.from({ length: 20 }, (_, i) => `shared:${i}`)
    for (let round = 0; round < 20; round++) {
      await Promise.all([
        ...keys.map(async (k) => await kv.set(k, `one-${round}`, 60_000)),
        ...[...keys].reverse().map(async (k) => await otherWorker.set(k, `two-${round}`, 60_000))
      ])
    }
    const final = await Promise.all(keys.map(async (k) => await kv.get(k)))
    expect(final.every((v) => v === 'one-19' || v === 'two-19')).toBe(true)
  })
})

import pg from 'pg'
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest'
import { counterBatcher, TickBatcher } from '../../../src/lib/tick-batcher.js'
import { PostgresKvStore } from '../../../src/plugins/app/kv-store.js'
import { PostgresRateLimitStore, type CounterResult } from '../../../src/plugins/external/rate-limit-stores.js'
import { buildTestApp, type TestApp } from '../../helpers/app.js'

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

  it('counterBatcher gives each caller the count it would have seen in turn', async () => {
    const counts = new Map<string, number>([['b', 10]])
    const calls: Array<[string[], number[]]> = []
    const counters = counterBatcher(async (keys, adds) => {
      calls.push([keys, adds])
      return keys.map((key, i) => {
        counts.set(key, (counts.get(key) ?? 0) + adds[i]!)
        return { key, count: counts.get(key)!, ttlMs: 1000 }
      })
    })
    const results = await Promise.all(['b', 'a', 'b', 'a', 'b'].map(async (key) => await counters.add({ key, windowMs: 1000 })))
    expect(results.map((r) => r.count)).toEqual([11, 1, 12, 2, 13])
    expect(calls).toEqual([[['a', 'b'], [2, 3]]])
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
    kv = t.app.kvStore as PostgresKvStore
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

  it('counts exactly across two workers incrementing at once, and restarts expired windows', async () => {
    const counts = await Promise.all(Array.from({ length: 60 }, async (_, i) => await (i % 2 === 0 ? kv : otherWorker).incr('quota:x', 60_000)))
    expect(counts.map((c) => c.count).sort((a, b) => a - b)).toEqual(Array.from({ length: 60 }, (_, i) => i + 1))
    expect(counts.every((c) => c.ttlMs > 50_000 && c.ttlMs <= 60_000)).toBe(true)
    expect((await kv.peek('quota:x')).count).toBe(60)

    await Promise.all([kv.incr('quota:short', 1), kv.incr('quota:short', 1)])
    await new Promise((resolve) => setTimeout(resolve, 20))
    expect(await Promise.all([kv.incr('quota:short', 60_000), kv.incr('quota:short', 60_000)])).toMatchObject([{ count: 1 }, { count: 2 }])
  })

  it('rate-limit counters: exact across workers, one statement per turn', async () => {
    const stores = [new PostgresRateLimitStore(t.app.pg), new PostgresRateLimitStore(otherPool)]
    const incr = async (store: PostgresRateLimitStore, key: string): Promise<CounterResult> => await new Promise((resolve, reject) => {
      store.incr(key, (err, result) => { if (err !== null) reject(err); else resolve(result!) }, 60_000)
    })
    const query = vi.spyOn(t.app.pg, 'query')
    let results: CounterResult[]
    try {
      results = await Promise.all(Array.from({ length: 40 }, async (_, i) => await incr(stores[i % 2]!, i % 4 < 2 ? '/ask|60000|10.0.0.1' : '/ask|3600000|10.0.0.1')))
      expect(query).toHaveBeenCalledTimes(1)
    } finally {
      query.mockRestore()
    }
    expect(results.map((r) => r.current).sort((a, b) => a - b)).toEqual(Array.from({ length: 20 }, (_, i) => [i + 1, i + 1]).flat())
  })
})

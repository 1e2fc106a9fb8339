import pg from 'pg'
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest'
import { buildTestApp, type TestApp } from '../../../helpers/app.js'
import { createUser } from '../../../helpers/documents.js'

describe('usage events (batched inserts)', () => {
  let t: TestApp
  let db: pg.Pool

  beforeAll(async () => {
    t = await buildTestApp({ label: 'usage_events', redis: false })
    db = new pg.Pool({ connectionString: t.databaseUrl })
  })
  afterAll(async () => {
    await db.end()
    await t.close()
  })

  const count = async (userId: string): Promise<number> =>
    (await db.query<{ n: number }>("SELECT count(*)::int AS n FROM usage_events WHERE user_id = $1 AND event_type = 'query_asked'", [userId])).rows[0]!.n

  it('records the events of one turn with one statement, metadata intact', async () => {
    const alice = await createUser(t.app, 'events_alice')
    const query = vi.spyOn(t.app.pg, 'query')
    try {
      await Promise.all(Array.from({ length: 5 }, async (_, i) => await t.app.usersRepository.recordEvent(alice.id, 'query_asked', { source: 'ask', n: i })))
      expect(query).toHaveBeenCalledTimes(1)
    } finally {
      query.mockRestore()
    }
    const { rows } = await db.query<{ metadata: { n: number } }>("SELECT metadata FROM usage_events WHERE user_id = $1 AND event_type = 'query_asked' ORDER BY id", [alice.id])
    expect(rows.map((r) => r.metadata)).toEqual([0, 1, 2, 3, 4].map((n) => ({ source: 'ask', n })))
  })

  it('keeps the other users\' events when one user of the batch no longer exists', async () => {
    const bob = await createUser(t.app, 'events_bob')
    const carol = await createUser(t.app, 'events_carol')
    const ghost = '00000000-0000-4000-8000-000000000000'
    await Promise.all([
      t.app.usersRepository.recordEvent(bob.id, 'query_asked', {}),
      t.app.usersRepository.recordEvent(ghost, 'query_asked', {}),
      t.app.usersRepository.recordEvent(carol.id, 'query_asked', {})
    ])
    expect(await count(bob.id)).toBe(1)
    expect(await count(carol.id)).toBe(1)
    expect(await count(ghost)).toBe(0)
  })
})

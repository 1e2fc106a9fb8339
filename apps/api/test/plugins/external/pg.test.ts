import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest'
import { buildTestApp, type TestApp } from '../../helpers/app.js'
import { ask, createUser, GENEROUS_RATE_LIMITS, THREE_TOPIC_PAGES, upload, type TestUser } from '../../helpers/documents.js'
import { makePdf } from '../../helpers/pdf-fixtures.js'

// The statements every question runs are prepared once per connection and then reused (PostgreSQL
// skips parsing and planning them). One pooled connection, so the view below sees all of them.
describe('prepared statements (Postgres store)', () => {
  let t: TestApp
  let user: TestUser
  beforeAll(async () => {
    t = await buildTestApp({ label: 'prepared', redis: false, env: { ...GENEROUS_RATE_LIMITS, DB_POOL_MAX: '1', QUERY_CACHE_TTL: '0' } })
    user = await createUser(t.app, 'prepared')
    expect((await upload(t.app, user, 'topics.pdf', await makePdf({ pages: THREE_TOPIC_PAGES }))).json().success).toBe(true)
  })
  afterAll(async () => { await t.close() })

  const prepared = async (): Promise<Map<string, number>> => {
    // Prepared through the protocol (not SQL PREPARE), on the pool's one connection.
    const { rows } = await t.app.pg.query<{ name: string, calls: string }>(
      'SELECT name, generic_plans + custom_plans AS calls FROM pg_prepared_statements WHERE from_sql = false')
    return new Map(rows.map((r) => [r.name, Number(r.calls)]))
  }

  it('prepares the hot statements once and reuses them across questions', async () => {
    const first = await ask(t.app, user, 'When did the Krakatoa eruption happen?')
    expect(first.statusCode).toBe(200)
    expect(first.json().success).toBe(true)
    // The usage event is written after the answer is sent.
    const once = await vi.waitFor(async () => {
      const names = await prepared()
      expect(names.has('usage-events-insert')).toBe(true)
      return names
    })
    for (const name of ['rate-limit-add', 'kv-add', 'kv-get', 'kv-set', 'documents-snapshot', 'usage-events-insert']) {
      expect(once.get(name), name).toBeGreaterThanOrEqual(1)
    }

    for (let i = 0; i < 3; i++) {
      const res = await ask(t.app, user, `When did the Krakatoa eruption happen (${i})?`)
      expect(res.statusCode).toBe(200)
      expect(res.json().answer).toContain('1883')
    }
    const after = await vi.waitFor(async () => {
      const names = await prepared()
      expect(names.get('usage-events-insert')).toBeGreaterThanOrEqual(once.get('usage-events-insert')! + 1)
      return names
    })
    // Same statements (no new names per call), each executed again.
    expect([...after.keys()].sort()).toEqual([...once.keys()].sort())
    expect(after.get('documents-snapshot')).toBe(once.get('documents-snapshot')! + 3)
  })
})

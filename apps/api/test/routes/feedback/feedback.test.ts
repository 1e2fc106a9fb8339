import { describe, expect, it } from 'vitest'
import { appWithUsers, type TestUser } from '../../helpers/users.js'

describe('POST /feedback', () => {
  const t = appWithUsers({ label: 'feedback', env: { ESPEAK_NG_PATH: 'off' } })

  const send = (user: TestUser, payload: unknown) =>
    t.app.inject({ method: 'POST', url: '/feedback', headers: { ...user.headers, 'content-type': 'application/json' }, payload: JSON.stringify(payload) })

  async function rows (user: TestUser) {
    const { rows } = await t.app.pg.query('SELECT message_id, query, response, rating, comment FROM feedback WHERE user_id = $1 ORDER BY id', [user.id])
    return rows
  }

  async function events (user: TestUser) {
    const { rows } = await t.app.pg.query("SELECT metadata FROM usage_events WHERE user_id = $1 AND event_type = 'feedback_submitted' ORDER BY id", [user.id])
    return rows.map((r: { metadata: unknown }) => r.metadata)
  }

  it('stores what the UI sends (a numeric message_id as text) with its usage event', async () => {
    const messageId = Date.now()
    const res = await send(t.alice, { message_id: messageId, query: 'What is the refund policy?', response: 'Thirty days. [Page 1]', rating: 1 })
    expect(res.statusCode).toBe(200)
    expect(res.json()).toEqual({ success: true, message: 'Feedback submitted successfully' })
    expect(await rows(t.alice)).toEqual([{ message_id: String(messageId), query: 'What is the refund policy?', response: 'Thirty days. [Page 1]', rating: 1, comment: '' }])
    expect(await events(t.alice)).toEqual([{ rating: 1, has_comment: false }])
  })

  it('accepts -1, string ids, comments and missing texts; `true` and `1.0` count as 1, as Python compared them', async () => {
    expect((await send(t.bob, { message_id: '1712-0.5', rating: -1, comment: 'wrong page' })).statusCode).toBe(200)
    expect((await send(t.bob, { message_id: 7, rating: true })).statusCode).toBe(200)
    expect((await send(t.bob, { message_id: 8, rating: 1.0 })).statusCode).toBe(200)
    expect(await rows(t.bob)).toEqual([
      { message_id: '1712-0.5', query: '', response: '', rating: -1, comment: 'wrong page' },
      { message_id: '7', query: '', response: '', rating: 1, comment: '' },
      { message_id: '8', query: '', response: '', rating: 1, comment: '' }
    ])
    expect(await events(t.bob)).toEqual([{ rating: -1, has_comment: true }, { rating: 1, has_comment: false }, { rating: 1, has_comment: false }])
    // Alice's rows are hers alone.
    expect(await rows(t.alice)).toHaveLength(1)
  })

  it('answers 400 "Invalid feedback data" for anything else, storing nothing', async () => {
    const invalid: unknown[] = [
      { rating: 1 },
      { message_id: 0, rating: 1 },
      { message_id: '', rating: 1 },
      { message_id: null, rating: 1 },
      { message_id: 1 },
      { message_id: 1, rating: 0 },
      { message_id: 1, rating: 2 },
      { message_id: 1, rating: '1' },
      { message_id: 1, rating: 0.5 },
      { message_id: 1, rating: false },
      { message_id: 1, rating: 1, query: { nested: true } },
      { message_id: 'x'.repeat(256), rating: 1 },
      [1, 2],
      'text',
      null
    ]
    const before = (await rows(t.alice)).length
    for (const payload of invalid) {
      const res = await send(t.alice, payload)
      expect(res.statusCode, JSON.stringify(payload)).toBe(400)
      expect(res.json()).toEqual({ success: false, message: 'Invalid feedback data' })
    }
    const empty = await t.app.inject({ method: 'POST', url: '/feedback', headers: t.alice.headers })
    expect(empty.statusCode).toBe(400)
    expect(empty.json()).toEqual({ success: false, message: 'Invalid feedback data' })
    expect(await rows(t.alice)).toHaveLength(before)
  })

  it('requires login', async () => {
    const res = await t.app.inject({ method: 'POST', url: '/feedback', payload: { message_id: 1, rating: 1 } })
    expect(res.statusCode).toBe(401)
    expect(res.json()).toEqual({ error: 'No authorization header' })
  })
})

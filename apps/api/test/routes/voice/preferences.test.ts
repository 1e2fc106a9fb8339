import { describe, expect, it } from 'vitest'
import { appWithUsers, createUser, type TestUser } from '../../helpers/users.js'

describe('GET/PUT /voice/preferences', () => {
  const t = appWithUsers({ label: 'voice_prefs', env: { ESPEAK_NG_PATH: 'off' } })

  const get = (user: TestUser) => t.app.inject({ url: '/voice/preferences', headers: user.headers })
  const put = (user: TestUser, payload: unknown) => t.app.inject({ method: 'PUT', url: '/voice/preferences', headers: user.headers, payload: payload as Record<string, unknown> })

  it('returns the full row (created at signup) in PostgREST\'s shape', async () => {
    const res = await get(t.alice)
    expect(res.statusCode).toBe(200)
    const { success, preferences } = res.json()
    expect(success).toBe(true)
    expect(preferences).toEqual({
      id: expect.stringMatching(/^[0-9a-f-]{36}$/),
      user_id: t.alice.id,
      engine_preference: 'auto',
      language_preference: 'auto',
      created_at: expect.stringMatching(/^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{6}\+00:00$/),
      updated_at: expect.stringMatching(/^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{6}\+00:00$/)
    })
  })

  it('creates the defaults when the row is missing, answering the short form once', async () => {
    await t.app.pg.query('DELETE FROM user_voice_preferences WHERE user_id = $1', [t.bob.id])
    expect((await get(t.bob)).json()).toEqual({ success: true, preferences: { engine_preference: 'auto', language_preference: 'auto' } })
    expect((await get(t.bob)).json().preferences.user_id).toBe(t.bob.id)
  })

  it('updates and reads back, each user only their own', async () => {
    const res = await put(t.alice, { engine_preference: 'gtts', language_preference: 'kn' })
    expect(res.statusCode).toBe(200)
    expect(res.json()).toEqual({ success: true, message: 'Voice preferences updated successfully', preferences: { engine_preference: 'gtts', language_preference: 'kn' } })
    const row = (await get(t.alice)).json().preferences
    expect(row).toMatchObject({ engine_preference: 'gtts', language_preference: 'kn' })
    expect(Date.parse(row.updated_at)).toBeGreaterThanOrEqual(Date.parse(row.created_at))
    // Bob's preferences are untouched and Bob cannot see Alice's.
    expect((await get(t.bob)).json().preferences).toMatchObject({ user_id: t.bob.id, engine_preference: 'auto', language_preference: 'auto' })
    // Missing fields fall back to auto.
    expect((await put(t.alice, {})).json().preferences).toEqual({ engine_preference: 'auto', language_preference: 'auto' })
  })

  it('refuses unknown engines with a 200 {success:false} message', async () => {
    for (const engine of ['groq', 'AZURE', 42, null]) {
      const res = await put(t.alice, { engine_preference: engine })
      expect(res.statusCode, String(engine)).toBe(200)
      if (engine === null) {
        // null means "not given" → auto.
        expect(res.json().success).toBe(true)
      } else {
        expect(res.json()).toEqual({ success: false, message: 'Invalid engine. Must be one of: auto, gtts, azure, coqui' })
      }
    }
  })

  it('keeps Azure for paying plans: free users get premium_required, premium users and users without a plan row pass', async () => {
    const refused = await put(t.alice, { engine_preference: 'azure' })
    expect(refused.statusCode).toBe(200)
    expect(refused.json()).toEqual({ success: false, message: 'Azure Neural TTS is a premium feature. Please upgrade your plan.', premium_required: true })
    expect((await get(t.alice)).json().preferences.engine_preference).not.toBe('azure')

    await t.app.pg.query("UPDATE user_plans SET plan_type = 'premium' WHERE user_id = $1", [t.bob.id])
    expect((await put(t.bob, { engine_preference: 'azure' })).json().success).toBe(true)

    const carol = await createUser(t.app, 'carol')
    await t.app.pg.query('DELETE FROM user_plans WHERE user_id = $1', [carol.id])
    expect((await put(carol, { engine_preference: 'azure', language_preference: 'hi' })).json()).toMatchObject({ success: true })
    // Alice is still refused: the check reads the caller's own plan.
    expect((await put(t.alice, { engine_preference: 'azure' })).json().premium_required).toBe(true)
  })

  it('answers "Failed to update preferences" when the language cannot be stored', async () => {
    const res = await put(t.alice, { engine_preference: 'auto', language_preference: 'much-too-long-language' })
    expect(res.json()).toEqual({ success: false, message: 'Failed to update preferences' })
  })

  it('requires login', async () => {
    expect((await t.app.inject({ url: '/voice/preferences' })).statusCode).toBe(401)
    expect((await t.app.inject({ method: 'PUT', url: '/voice/preferences', payload: {} })).statusCode).toBe(401)
  })
})

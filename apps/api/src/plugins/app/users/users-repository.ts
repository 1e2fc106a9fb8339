import fp from 'fastify-plugin'
import type pg from 'pg'
import { TickBatcher } from '../../../lib/tick-batcher.js'
import { isMissingUserError } from '../../external/pg.js'

declare module 'fastify' {
  interface FastifyInstance {
    usersRepository: UsersRepository
  }
}

export interface UserRow {
  id: string
  email: string
  password_hash: string
  role: string | null
  occupation: string | null
  institution: string | null
  is_verified: boolean
  created_at: string
}

export interface NewUser {
  email: string
  passwordHash: string
  role: string | null
  occupation: string | null
  institution: string | null
}

export type UsageEventType = 'user_signup' | 'user_login' | 'password_changed' | 'email_changed' | 'feedback_submitted' | 'query_asked'

// created_at as PostgREST printed it for the Flask backend (ISO 8601 without a zone), which /auth/me returns.
const USER_COLUMNS = `id, email, password_hash, role, occupation, institution, is_verified,
  to_char(created_at, 'YYYY-MM-DD"T"HH24:MI:SS.US') AS created_at`

interface UsageEvent {
  userId: string
  type: UsageEventType
  /** JSON text. */
  metadata: string
}

export class UsersRepository {
  constructor (private readonly pool: pg.Pool) {}

  async findByEmail (email: string): Promise<UserRow | undefined> {
    const { rows } = await this.pool.query<UserRow>({ name: 'user-by-email', text: `SELECT ${USER_COLUMNS} FROM users WHERE email = $1`, values: [email] })
    return rows[0]
  }

  async findById (id: string): Promise<UserRow | undefined> {
    const { rows } = await this.pool.query<UserRow>({ name: 'user-by-id', text: `SELECT ${USER_COLUMNS} FROM users WHERE id = $1`, values: [id] })
    return rows[0]
  }

  /** Creates the user with its plan and voice preference rows (no database trigger does it). Returns undefined if the email is taken. */
  async create (user: NewUser): Promise<UserRow | undefined> {
    const client = await this.pool.connect()
    try {
      await client.query('BEGIN')
      const { rows } = await client.query<UserRow>(
        `INSERT INTO users (email, password_hash, role, occupation, institution) VALUES ($1, $2, $3, $4, $5)
         ON CONFLICT (email) DO NOTHING RETURNING ${USER_COLUMNS}`,
        [user.email, user.passwordHash, user.role, user.occupation, user.institution]
      )
      const created = rows[0]
      if (created === undefined) {
        await client.query('ROLLBACK')
        return undefined
      }
      await client.query('INSERT INTO user_plans (user_id) VALUES ($1)', [created.id])
      await client.query('INSERT INTO user_voice_preferences (user_id) VALUES ($1)', [created.id])
      await client.query(
        'INSERT INTO usage_events (user_id, event_type, metadata) VALUES ($1, $2, $3)',
        [created.id, 'user_signup', { email: created.email, role: created.role }]
      )
      await client.query('COMMIT')
      return created
    } catch (err) {
      await client.query('ROLLBACK').catch(() => {})
      throw err
    } finally {
      client.release()
    }
  }

  async updatePasswordHash (id: string, passwordHash: string, touchUpdatedAt: boolean): Promise<boolean> {
    const sql = touchUpdatedAt
      ? "UPDATE users SET password_hash = $2, updated_at = (now() AT TIME ZONE 'utc') WHERE id = $1"
      : 'UPDATE users SET password_hash = $2 WHERE id = $1'
    const res = await this.pool.query(sql, [id, passwordHash])
    return res.rowCount === 1
  }

  /** Returns false when the new email belongs to someone else. */
  async updateEmail (id: string, email: string): Promise<boolean> {
    const res = await this.pool.query(
      `UPDATE users SET email = $2, updated_at = (now() AT TIME ZONE 'utc') WHERE id = $1
       AND NOT EXISTS (SELECT 1 FROM users WHERE email = $2 AND id <> $1)`,
      [id, email]
    ).catch((err: { code?: string }) => {
      if (err.code === '23505') return { rowCount: 0 } // lost a race for the same address
      throw err
    })
    return res.rowCount === 1
  }

  /** Cascades to plans, preferences, events and (later) documents. */
  async delete (id: string): Promise<boolean> {
    const res = await this.pool.query('DELETE FROM users WHERE id = $1', [id])
    return res.rowCount === 1
  }

  /** One event per answered question and more: the events of one event-loop turn are one INSERT. */
  async recordEvent (userId: string, type: UsageEventType, metadata: Record<string, unknown>): Promise<void> {
    await this.#events.add({ userId, type, metadata: JSON.stringify(metadata) })
  }

  readonly #events = new TickBatcher<UsageEvent, void>(async (events) => {
    try {
      await this.#insertEvents(events)
    } catch (err) {
      if (!isMissingUserError(err)) throw err
      // A user deleted meanwhile fails the whole statement: the others' events go in one by one, and
      // the deleted user's (nothing is left to count it for) is dropped.
      await Promise.all(events.map(async (e) => {
        await this.#insertEvents([e]).catch((one: unknown) => { if (!isMissingUserError(one)) throw one })
      }))
    }
    return events.map(() => undefined)
  })

  async #insertEvents (events: UsageEvent[]): Promise<void> {
    await this.pool.query({
      name: 'usage-events-insert',
      text: `INSERT INTO usage_events (user_id, event_type, metadata)
       SELECT u, t, m::jsonb FROM unnest($1::uuid[], $2::text[], $3::text[]) WITH ORDINALITY AS e(u, t, m, n) ORDER BY n`,
      values: [events.map((e) => e.userId), events.map((e) => e.type), events.map((e) => e.metadata)]
    })
  }
}

export default fp(async (fastify) => {
  fastify.decorate('usersRepository', new UsersRepository(fastify.pg))
}, { name: 'users-repository', dependencies: ['pg'] })

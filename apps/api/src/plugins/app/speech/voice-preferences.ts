import fp from 'fastify-plugin'
import type pg from 'pg'

declare module 'fastify' {
  interface FastifyInstance {
    voicePreferences: VoicePreferencesRepository
  }
}

/** The engine names the UI offers and the table's CHECK accepts (kept from the Flask backend, whatever engine really speaks). */
export const VOICE_ENGINES = ['auto', 'gtts', 'azure', 'coqui'] as const
export type VoiceEngine = typeof VOICE_ENGINES[number]

export function isVoiceEngine (value: string): value is VoiceEngine {
  return (VOICE_ENGINES as readonly string[]).includes(value)
}

/** The full row, timestamps printed as PostgREST printed them for the Flask backend. */
export interface VoicePreferencesRow {
  id: string
  user_id: string
  engine_preference: string
  language_preference: string
  created_at: string
  updated_at: string
}

export interface PlanRow {
  plan_type: string
  max_documents: number
  max_queries_per_day: number
}

const POSTGREST_TIMESTAMP = (column: string): string =>
  `to_char(${column} AT TIME ZONE 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS.US"+00:00"') AS ${column}`

export class VoicePreferencesRepository {
  constructor (private readonly pool: pg.Pool) {}

  async find (userId: string): Promise<VoicePreferencesRow | undefined> {
    const { rows } = await this.pool.query<VoicePreferencesRow>(
      `SELECT id, user_id, engine_preference, language_preference, ${POSTGREST_TIMESTAMP('created_at')}, ${POSTGREST_TIMESTAMP('updated_at')}
       FROM user_voice_preferences WHERE user_id = $1`,
      [userId]
    )
    return rows[0]
  }

  /** The defaults, for a user whose row is missing (signup creates it; older accounts may lack it). */
  async createDefault (userId: string): Promise<void> {
    await this.pool.query('INSERT INTO user_voice_preferences (user_id) VALUES ($1) ON CONFLICT (user_id) DO NOTHING', [userId])
  }

  async upsert (userId: string, engine: VoiceEngine, language: string): Promise<void> {
    await this.pool.query(
      `INSERT INTO user_voice_preferences (user_id, engine_preference, language_preference) VALUES ($1, $2, $3)
       ON CONFLICT (user_id) DO UPDATE SET engine_preference = EXCLUDED.engine_preference,
         language_preference = EXCLUDED.language_preference, updated_at = now()`,
      [userId, engine, language]
    )
  }

  /** The user's plan row; undefined when there is none (such a user is then treated as unrestricted). */
  async plan (userId: string): Promise<PlanRow | undefined> {
    const { rows } = await this.pool.query<PlanRow>(
      'SELECT plan_type, max_documents, max_queries_per_day FROM user_plans WHERE user_id = $1',
      [userId]
    )
    return rows[0]
  }
}

export default fp(async (fastify) => {
  fastify.decorate('voicePreferences', new VoicePreferencesRepository(fastify.pg))
}, { name: 'voice-preferences', dependencies: ['pg'] })

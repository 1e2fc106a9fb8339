import fp from 'fastify-plugin'
import type pg from 'pg'

declare module 'fastify' {
  interface FastifyInstance {
    usageStats: UsageStatsRepository
  }
}

export interface UserStatsRow {
  email: string
  role: string | null
  member_since: string
  total_queries: number
  total_documents: number
  plan_type: string | null
  max_documents: number | null
  max_queries_per_day: number | null
}

/** Read-only figures for /user/stats; every query is scoped to one user. */
export class UsageStatsRepository {
  constructor (private readonly pool: pg.Pool) {}

  /**
   * Questions are the `query_asked` events /ask and /voice-query record per answered question;
   * documents are the user's ready `documents` rows. undefined when the user no longer exists.
   */
  async forUser (userId: string): Promise<UserStatsRow | undefined> {
    const { rows } = await this.pool.query<UserStatsRow>(
      `SELECT u.email, u.role, to_char(u.created_at, 'YYYY-MM-DD"T"HH24:MI:SS.US') AS member_since,
         (SELECT count(*)::int FROM usage_events e WHERE e.user_id = u.id AND e.event_type = 'query_asked') AS total_queries,
         (SELECT count(*)::int FROM documents d WHERE d.user_id = u.id AND d.status = 'ready') AS total_documents,
         p.plan_type, p.max_documents, p.max_queries_per_day
       FROM users u LEFT JOIN user_plans p ON p.user_id = u.id
       WHERE u.id = $1`,
      [userId]
    )
    return rows[0]
  }
}

export default fp(async (fastify) => {
  fastify.decorate('usageStats', new UsageStatsRepository(fastify.pg))
}, { name: 'usage-stats', dependencies: ['pg'] })

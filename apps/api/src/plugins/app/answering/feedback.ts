import fp from 'fastify-plugin'
import type pg from 'pg'

declare module 'fastify' {
  interface FastifyInstance {
    feedback: FeedbackRepository
  }
}

export interface NewFeedback {
  userId: string
  messageId: string
  query: string
  response: string
  rating: 1 | -1
  comment: string
}

export class FeedbackRepository {
  constructor (private readonly pool: pg.Pool) {}

  /** Stores the rating and its usage event together, so analytics never count feedback that was not saved. */
  async create (feedback: NewFeedback): Promise<void> {
    await this.pool.query(
      `WITH saved AS (
         INSERT INTO feedback (user_id, message_id, query, response, rating, comment) VALUES ($1, $2, $3, $4, $5, $6) RETURNING user_id
       )
       INSERT INTO usage_events (user_id, event_type, metadata) SELECT user_id, 'feedback_submitted', $7 FROM saved`,
      [feedback.userId, feedback.messageId, feedback.query, feedback.response, feedback.rating, feedback.comment,
        { rating: feedback.rating, has_comment: feedback.comment !== '' }]
    )
  }

  async countByUser (userId: string): Promise<number> {
    const { rows } = await this.pool.query<{ n: string }>('SELECT count(*) AS n FROM feedback WHERE user_id = $1', [userId])
    return Number(rows[0]?.n ?? 0)
  }
}

export default fp(async (fastify) => {
  fastify.decorate('feedback', new FeedbackRepository(fastify.pg))
}, { name: 'feedback', dependencies: ['pg'] })

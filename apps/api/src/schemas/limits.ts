import { Type } from 'typebox'

// GET /limits.

export const LimitsResponse = Type.Object({
  success: Type.Literal(true),
  usage: Type.Object({
    documents: Type.Object({ current: Type.Integer(), limit: Type.Integer(), remaining: Type.Integer(), can_upload: Type.Boolean() }),
    queries: Type.Object({
      limit_per_day: Type.Integer(),
      remaining_today: Type.Integer(),
      can_query: Type.Boolean(),
      reset_at: Type.Union([Type.Integer(), Type.Null()])
    }),
    file_size: Type.Object({ max_mb: Type.Number() }),
    // Flat fields the React UsageDashboard reads beside the nested shape.
    documents_used: Type.Integer(),
    max_documents: Type.Integer(),
    documents_remaining: Type.Integer(),
    queries_today: Type.Integer(),
    max_queries_per_day: Type.Integer(),
    queries_remaining: Type.Integer(),
    plan_type: Type.String()
  }),
  beta_info: Type.Object({ message: Type.String(), upgrade_available: Type.Boolean() })
})

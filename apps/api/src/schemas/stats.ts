import { Type, type Static } from 'typebox'

// GET /stats, GET /user/stats, GET /cache/stats (POST /cache/clear answers the common envelope).

export const CacheStats = Type.Object({
  enabled: Type.Boolean(),
  mode: Type.String(),
  connection: Type.Optional(Type.String()),
  /** The caller's conversation history (0 or 1). */
  session_keys: Type.Optional(Type.Integer()),
  /** The caller's daily quota counter (0 or 1); reported, never cleared. */
  rate_keys: Type.Optional(Type.Integer()),
  total_keys: Type.Integer()
})
export type CacheStatsValue = Static<typeof CacheStats>

export const StatsResponse = Type.Object({
  success: Type.Literal(true),
  stats: Type.Object({
    vector_store: Type.Object({
      total_chunks: Type.Integer(),
      total_documents: Type.Integer(),
      document_names: Type.Array(Type.String()),
      embedding_model: Type.String(),
      collection_name: Type.String()
    }),
    models: Type.Object({ embedding_model: Type.String(), llm_model: Type.String() }),
    cache: CacheStats
  })
})

export const UserStatsResponse = Type.Object({
  success: Type.Literal(true),
  stats: Type.Object({
    total_queries: Type.Integer(),
    total_documents: Type.Integer(),
    member_since: Type.String(),
    email: Type.String(),
    role: Type.Union([Type.String(), Type.Null()]),
    plan: Type.Optional(Type.Object({ type: Type.String(), max_documents: Type.Integer(), max_queries_per_day: Type.Integer() }))
  })
})

export const CacheStatsResponse = Type.Object({ success: Type.Literal(true), cache: CacheStats })

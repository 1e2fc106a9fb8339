import { Type } from 'typebox'

// GET /health (liveness) and GET /health/ready (readiness).

export const CacheHealth = Type.Object({
  healthy: Type.Boolean(),
  mode: Type.String(),
  message: Type.String(),
  error: Type.Optional(Type.String())
})

export const HealthResponse = Type.Object({
  success: Type.Boolean(),
  status: Type.String(),
  components: Type.Object({
    rag_system: Type.String(),
    vector_store: Type.String(),
    cache: CacheHealth
  })
})

export const ReadyResponse = Type.Object({
  success: Type.Boolean(),
  status: Type.String(),
  checks: Type.Object({
    postgres: Type.String(),
    redis: Type.String()
  })
})

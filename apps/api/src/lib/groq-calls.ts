import { Counter, Histogram, type Registry } from 'prom-client'

/** The Groq calls /metrics times: chat completions whole or streamed, Whisper, text-to-speech. */
export type GroqCallKind = 'chat' | 'stream' | 'transcription' | 'speech'

export interface GroqCalls {
  /** One call's duration and how it ended ('ok', or the failure kind the caller reports to users). */
  observe: (kind: GroqCallKind, outcome: string, seconds: number) => void
  /** Tokens, when the API reported usage. */
  tokens: (kind: GroqCallKind, usage: { prompt_tokens?: number | null, completion_tokens?: number | null } | null | undefined) => void
}

/**
 * The instruments, shared by answering (chat, stream) and speech (transcription, speech): both
 * plugins ask for them, the first creates them in the registry.
 */
export function groqCalls (registry: Registry): GroqCalls {
  const duration = registry.getSingleMetric('groq_request_duration_seconds') as Histogram<'kind' | 'outcome'> | undefined ?? new Histogram({
    name: 'groq_request_duration_seconds',
    help: 'Duration of Groq API calls (retries included) by kind (chat, stream, transcription, speech) and outcome',
    labelNames: ['kind', 'outcome'] as const,
    buckets: [0.1, 0.25, 0.5, 1, 2, 4, 8, 15, 30, 60, 120],
    registers: [registry]
  })
  const tokens = registry.getSingleMetric('groq_tokens_total') as Counter<'kind' | 'type'> | undefined ?? new Counter({
    name: 'groq_tokens_total',
    help: 'Tokens Groq reported using, by kind and type (prompt, completion)',
    labelNames: ['kind', 'type'] as const,
    registers: [registry]
  })
  return {
    observe (kind, outcome, seconds) { duration.observe({ kind, outcome }, seconds) },
    tokens (kind, usage) {
      if (typeof usage?.prompt_tokens === 'number') tokens.inc({ kind, type: 'prompt' }, usage.prompt_tokens)
      if (typeof usage?.completion_tokens === 'number') tokens.inc({ kind, type: 'completion' }, usage.completion_tokens)
    }
  }
}

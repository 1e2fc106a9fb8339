/** `GET /models` and `GET /models/:id`: a fixed list of Groq's models. */
import { sleepUntil } from '../faults.js'
import { HttpError, sendJson } from '../http.js'
import type { MockState, PreparedRequest } from '../state.js'

export interface MockModel {
  id: string
  object: 'model'
  created: number
  owned_by: string
  active: boolean
  context_window: number
  public_apps: null
  max_completion_tokens: number
}

const MODEL_CREATED = 1_700_000_000

export const MOCK_MODELS: readonly MockModel[] = [
  ['llama-3.1-8b-instant', 'Meta', 131072, 131072],
  ['llama-3.3-70b-versatile', 'Meta', 131072, 32768],
  ['openai/gpt-oss-20b', 'OpenAI', 131072, 65536],
  ['openai/gpt-oss-120b', 'OpenAI', 131072, 65536],
  ['whisper-large-v3', 'OpenAI', 448, 448],
  ['whisper-large-v3-turbo', 'OpenAI', 448, 448],
  ['playai-tts', 'PlayAI', 8192, 8192],
  ['playai-tts-arabic', 'PlayAI', 8192, 8192],
  ['canopylabs/orpheus-v1-english', 'Canopy Labs', 4000, 50000]
].map(([id, owner, ctx, max]) => ({
  id: id as string,
  object: 'model' as const,
  created: MODEL_CREATED,
  owned_by: owner as string,
  active: true,
  context_window: ctx as number,
  public_apps: null,
  max_completion_tokens: max as number
}))

/** `modelId` set = one model (404 `model_not_found` when unknown, after the latency), else the list. */
export function prepareModels (state: MockState, modelId: string | undefined): PreparedRequest {
  return {
    model: modelId ?? 'unknown',
    respond: async (res, ctx, latency) => {
      if (!await sleepUntil(ctx.start + latency, ctx.signal)) return
      if (modelId === undefined) {
        state.record(ctx, 'ok')
        sendJson(res, 200, { object: 'list', data: MOCK_MODELS })
        return
      }
      const m = MOCK_MODELS.find((x) => x.id === modelId)
      if (m === undefined) {
        throw new HttpError(404, `The model \`${modelId}\` does not exist or you do not have access to it.`,
          'invalid_request_error', 'model_not_found', 'not_found')
      }
      state.record(ctx, 'ok')
      sendJson(res, 200, m)
    }
  }
}

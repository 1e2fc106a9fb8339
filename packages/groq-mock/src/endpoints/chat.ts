/** `POST /chat/completions`: the deterministic answer as one `chat.completion` or as SSE chunks. */
import type { IncomingMessage, ServerResponse } from 'node:http'
import { buildAnswer, estimateTokens, messageText } from '../answer.js'
import type { ChatMessageLike } from '../answer.js'
import { sleepUntil } from '../faults.js'
import { badRequest, parseJsonBody, requireString, sendJson, sseEvent, startSse } from '../http.js'
import type { MockState, PreparedRequest, RequestCtx } from '../state.js'

interface ChatRequest {
  model: string
  messages: ChatMessageLike[]
  stream: boolean
  includeUsage: boolean
  maxTokens: number | null
}

/** What both reply shapes share: the (possibly truncated) answer, its usage, ids. */
interface Completion {
  id: string
  created: number
  content: string
  finishReason: 'stop' | 'length'
  usage: Record<string, number>
}

/** Splits an answer into word-sized stream deltas (at most 64) whose concatenation is the answer. */
export function splitForStream (content: string): string[] {
  const words = content.match(/\s*\S+\s*$|\s*\S+/g) ?? []
  const joined = words.join('')
  const pieces = joined === content ? words : [content]
  if (pieces.length <= 64) return pieces.filter((p) => p.length > 0)
  const per = Math.ceil(pieces.length / 64)
  const out: string[] = []
  for (let i = 0; i < pieces.length; i += per) out.push(pieces.slice(i, i + per).join(''))
  return out
}

function parseChat (req: IncomingMessage, body: Buffer): ChatRequest {
  const json = parseJsonBody(req, body)
  const model = requireString(json, 'model')
  const messages = json.messages
  if (!Array.isArray(messages) || messages.length === 0) {
    throw badRequest("'messages' : property 'messages' is missing or empty")
  }
  for (const m of messages) {
    if (m === null || typeof m !== 'object' || typeof (m as { role?: unknown }).role !== 'string') {
      throw badRequest("'messages' : each message must be an object with a 'role'")
    }
  }
  const maxRaw = json.max_completion_tokens ?? json.max_tokens
  const maxTokens = typeof maxRaw === 'number' && Number.isInteger(maxRaw) && maxRaw > 0 ? maxRaw : null
  const streamOptions = json.stream_options as { include_usage?: unknown } | null | undefined
  return {
    model,
    messages: messages as ChatMessageLike[],
    stream: json.stream === true,
    includeUsage: streamOptions?.include_usage === true,
    maxTokens
  }
}

/** The answer cut to `maxTokens` (4 characters a token), with Groq-style usage figures. */
function complete (p: ChatRequest, ctx: RequestCtx, latency: number): Completion {
  let content = buildAnswer(p.messages).content
  let finishReason: 'stop' | 'length' = 'stop'
  if (p.maxTokens !== null && estimateTokens(content) > p.maxTokens) {
    content = content.slice(0, p.maxTokens * 4)
    finishReason = 'length'
  }
  const promptText = p.messages.map((m) => messageText(m.content)).join('\n')
  const promptTokens = estimateTokens(promptText) + 4 * p.messages.length
  const completionTokens = estimateTokens(content)
  const usage = {
    queue_time: 0.001,
    prompt_tokens: promptTokens,
    prompt_time: 0.002,
    completion_tokens: completionTokens,
    completion_time: Math.round(latency) / 1000,
    total_tokens: promptTokens + completionTokens,
    total_time: Math.round(latency + 3) / 1000
  }
  return { id: `chatcmpl-mock-${ctx.id.slice(4)}`, created: Math.floor(Date.now() / 1000), content, finishReason, usage }
}

async function respondJson (state: MockState, res: ServerResponse, ctx: RequestCtx, p: ChatRequest,
  c: Completion, latency: number): Promise<void> {
  if (!await sleepUntil(ctx.start + latency, ctx.signal)) return
  state.record(ctx, 'ok')
  sendJson(res, 200, {
    id: c.id,
    object: 'chat.completion',
    created: c.created,
    model: p.model,
    choices: [{ index: 0, message: { role: 'assistant', content: c.content }, logprobs: null, finish_reason: c.finishReason }],
    usage: c.usage,
    system_fingerprint: 'fp_groq_mock',
    x_groq: { id: ctx.id }
  })
}

/** Half the latency before the headers and role chunk, the rest spread evenly over the content deltas. */
async function respondStream (state: MockState, res: ServerResponse, ctx: RequestCtx, p: ChatRequest,
  c: Completion, latency: number): Promise<void> {
  state.counters.streamed++
  const pieces = splitForStream(c.content)
  const base = { id: c.id, object: 'chat.completion.chunk', created: c.created, model: p.model, system_fingerprint: 'fp_groq_mock' }
  const event = (choices: unknown[], extra: Record<string, unknown> = {}): string => sseEvent({ ...base, choices, ...extra })
  const firstDelay = latency / 2
  const perPiece = pieces.length > 0 ? (latency - firstDelay) / pieces.length : 0

  if (!await sleepUntil(ctx.start + firstDelay, ctx.signal) || res.destroyed) return
  startSse(res)
  res.write(event([{ index: 0, delta: { role: 'assistant', content: '' }, logprobs: null, finish_reason: null }],
    { x_groq: { id: ctx.id } }))
  for (const [i, piece] of pieces.entries()) {
    if (!await sleepUntil(ctx.start + firstDelay + (i + 1) * perPiece, ctx.signal) || res.destroyed) return
    res.write(event([{ index: 0, delta: { content: piece }, logprobs: null, finish_reason: null }]))
  }
  res.write(event([{ index: 0, delta: {}, logprobs: null, finish_reason: c.finishReason }],
    { x_groq: { id: ctx.id, usage: c.usage } }))
  if (p.includeUsage) res.write(event([], { usage: c.usage }))
  res.write('data: [DONE]\n\n')
  state.record(ctx, 'ok')
  res.end()
}

export function prepareChat (req: IncomingMessage, body: Buffer, state: MockState): PreparedRequest {
  const p = parseChat(req, body)
  return {
    model: p.model,
    respond: async (res, ctx, latency) => {
      const c = complete(p, ctx, latency)
      await (p.stream ? respondStream : respondJson)(state, res, ctx, p, c, latency)
    }
  }
}

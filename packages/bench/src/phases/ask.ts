// POST /ask with the LLM mocked at a fixed latency.
import { mapLimit } from '@documind/harness'
import { type BenchUser, postJson, uploadPdf } from '../api.js'
import type { LoadSpec } from '../load-types.js'
import { runLoad } from '../load.js'
import { ASK_QUESTIONS } from '../pdf.js'
import { ratio, round } from '../stats.js'
import type { AskResult } from '../types.js'
import { ensureUsers } from './login.js'
import { apiWorkerPids, checkLoad, type Context, figures, measuredLoad, quiesce, withLoadAverages } from './measure.js'

export const ASK_DOCUMENT = 'bench-facts.pdf'

async function ensureDocuments (ctx: Context, users: readonly BenchUser[]): Promise<void> {
  const pdf = await ctx.askPdf
  const todo = users.filter((u) => !ctx.withDocument.has(u.email))
  if (todo.length === 0) return
  ctx.log(`setup: uploading the /ask document for ${todo.length} users`)
  await mapLimit(todo, 4, async (user) => {
    const res = await uploadPdf(ctx.stack.url, user, ASK_DOCUMENT, pdf)
    if (res.status !== 200 || res.body.success !== true) throw new Error(`upload failed: ${res.status} ${res.text.slice(0, 300)}`)
    ctx.withDocument.add(user.email)
  })
}

export async function askPhase (ctx: Context): Promise<AskResult> {
  return await withLoadAverages(async () => {
    const { plan, llmLatencyMs } = ctx.options
    const { connections, measureSec, timeoutSec } = plan.ask
    const users = await ensureUsers(ctx, plan.ask.users)
    await ensureDocuments(ctx, users)
    // Warm-up and sanity check: one question per user, answered by the LLM (not cached, not extractive).
    ctx.log('ask: warm-up, one question per user')
    await mapLimit(users, users.length, async (user, i) => {
      const res = await postJson(`${ctx.stack.url}/ask`, { question: ASK_QUESTIONS[i % ASK_QUESTIONS.length], language: 'en' }, { authorization: `Bearer ${user.token}` })
      const metadata = res.body.metadata as { cached?: boolean, model?: string } | undefined
      if (res.status !== 200 || res.body.success !== true) throw new Error(`POST /ask failed: ${res.status} ${res.text.slice(0, 300)}`)
      if (metadata?.cached !== false || metadata.model === undefined || metadata.model === 'extractive') {
        throw new Error(`POST /ask did not reach the LLM: ${res.text.slice(0, 300)}`)
      }
    })
    const variants = users.flatMap((user) => ASK_QUESTIONS.map((question) => ({
      body: JSON.stringify({ question, language: 'en' }),
      headers: { authorization: `Bearer ${user.token}` }
    })))
    // Interleave users so consecutive requests belong to different users.
    const interleaved = ASK_QUESTIONS.flatMap((_, q) => users.map((_, u) => variants[u * ASK_QUESTIONS.length + q]!))
    // Then a warm-up at the measured concurrency, as the health phase does: the workers' connection
    // pools (PostgreSQL, the LLM) grow to what this load keeps open, as on a server already in service.
    // The measured run still opens its own connections and sends its first requests all at once.
    const spec: LoadSpec = {
      url: ctx.stack.url,
      method: 'POST',
      path: '/ask',
      connections,
      durationSec: measureSec,
      timeoutSec,
      headers: { 'content-type': 'application/json' },
      variants: interleaved
    }
    ctx.log(`ask: warm-up ${plan.ask.warmupSec} s at ${connections} connections`)
    await runLoad({ ...spec, durationSec: plan.ask.warmupSec })
    await quiesce(ctx, 'ask warm-up')
    ctx.mock.resetStats()
    ctx.log(`ask: ${measureSec} s at ${connections} connections, L = ${llmLatencyMs} ms`)
    const measured = await measuredLoad(spec, await apiWorkerPids(ctx), ctx.postgresPids === undefined ? {} : { postgres: ctx.postgresPids })
    const load = measured.result
    const stats = ctx.mock.stats()
    checkLoad(ctx, 'ask', load)
    ctx.log(`ask: ${load.rps} req/s, p50 ${load.latency.p50_ms} ms, p95 ${load.latency.p95_ms} ms, p99 ${load.latency.p99_ms} ms`)
    const llmCalls = stats.byEndpoint['chat.completions']
    if (llmCalls < load.ok) ctx.warnings.push(`ask: ${load.ok} answers but only ${llmCalls} LLM calls (cached answers?)`)
    return {
      p95_over_latency: round(ratio(load.latency.p95_ms, llmLatencyMs), 4),
      p95_over_latency_after_first: round(ratio(load.latency_after_first.p95_ms, llmLatencyMs), 4),
      p50_over_latency: round(ratio(load.latency.p50_ms, llmLatencyMs), 4),
      p99_over_latency: round(ratio(load.latency.p99_ms, llmLatencyMs), 4),
      llm_latency_ms: llmLatencyMs,
      p50_ms: load.latency.p50_ms,
      p95_ms: load.latency.p95_ms,
      p99_ms: load.latency.p99_ms,
      rps: load.rps,
      connections,
      users: users.length,
      measure_s: measureSec,
      llm_calls: llmCalls,
      speech_calls: stats.byEndpoint['audio.speech'],
      load: figures(load, measured)
    }
  })
}

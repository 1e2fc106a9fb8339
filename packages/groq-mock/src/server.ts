/** Wiring: the HTTP server, routing to the endpoint handlers, and the steps every API request goes through. */
import http from 'node:http'
import type { IncomingMessage, ServerResponse } from 'node:http'
import type { AddressInfo } from 'node:net'
import { prepareChat } from './endpoints/chat.js'
import { handleControl } from './endpoints/control.js'
import { prepareModels } from './endpoints/models.js'
import { prepareSpeech } from './endpoints/speech.js'
import { prepareTranscription } from './endpoints/transcriptions.js'
import { injectedError, planFaults, sleepUntil } from './faults.js'
import { HttpError, header, readBody } from './http.js'
import { MockState } from './state.js'
import type { PreparedRequest, RequestCtx } from './state.js'
import type { GroqMock, GroqMockOptions, MockEndpoint } from './types.js'

export const API_PREFIX = '/openai/v1'

function route (method: string, path: string): { endpoint: MockEndpoint, modelId?: string } {
  if (!path.startsWith(`${API_PREFIX}/`)) return { endpoint: 'unknown' }
  const rest = path.slice(API_PREFIX.length)
  if (method === 'POST' && rest === '/chat/completions') return { endpoint: 'chat.completions' }
  if (method === 'POST' && rest === '/audio/transcriptions') return { endpoint: 'audio.transcriptions' }
  if (method === 'POST' && rest === '/audio/speech') return { endpoint: 'audio.speech' }
  if (method === 'GET' && rest === '/models') return { endpoint: 'models' }
  if (method === 'GET' && rest.startsWith('/models/') && rest.length > '/models/'.length) {
    return { endpoint: 'models', modelId: decodeURIComponent(rest.slice('/models/'.length)) }
  }
  return { endpoint: 'unknown' }
}

/** Validates the request for its endpoint (400 on a bad one) and returns how to answer it. */
function prepare (state: MockState, req: IncomingMessage, endpoint: Exclude<MockEndpoint, 'unknown'>, body: Buffer,
  modelId: string | undefined): PreparedRequest {
  switch (endpoint) {
    case 'chat.completions': return prepareChat(req, body, state)
    case 'audio.transcriptions': return prepareTranscription(req, body, state)
    case 'audio.speech': return prepareSpeech(req, body, state)
    case 'models': return prepareModels(state, modelId)
  }
}

/**
 * Body, URL, auth and validation errors answer at once; then the planned fault (a stall is never
 * answered, a 429/500 waits for the latency) or the endpoint's reply.
 */
async function handleApi (state: MockState, req: IncomingMessage, res: ServerResponse, ctx: RequestCtx,
  modelId: string | undefined): Promise<void> {
  const body = await readBody(req, state.opts.maxBodyBytes)
  if (ctx.endpoint === 'unknown') {
    throw new HttpError(404, `Unknown request URL: ${req.method ?? 'GET'} ${req.url ?? '/'}. Please check the URL for typos, or see the docs at https://console.groq.com/docs/`,
      'invalid_request_error', 'unknown_url', 'not_found')
  }
  if (state.opts.requireAuth && !/^Bearer\s+\S+/i.test(header(req, 'authorization') ?? '')) {
    throw new HttpError(401, 'Invalid API Key', 'invalid_request_error', 'invalid_api_key', 'unauthorized')
  }
  const prepared = prepare(state, req, ctx.endpoint, body, modelId)
  const { failure, latency, retryAfter } = planFaults(req, ctx.endpoint, state.opts, state.random)
  if (failure === 'stall') {
    state.record(ctx, 'stalled')
    state.stalled.add(res)
    return // never answered; close() or the client ends the socket
  }
  if (failure !== null) {
    if (!await sleepUntil(ctx.start + latency, ctx.signal)) return
    const { error, headers } = injectedError(failure, prepared.model, retryAfter)
    state.sendError(res, ctx, error, headers)
    return
  }
  await prepared.respond(res, ctx, latency)
}

/** Counts the request, tracks it until its socket closes (a close before the end = `aborted`) and answers it. */
function serveApi (state: MockState, req: IncomingMessage, res: ServerResponse, path: string, id: string): void {
  const { endpoint, modelId } = route(req.method ?? 'GET', path)
  const ac = new AbortController()
  const ctx: RequestCtx = { id, endpoint, signal: ac.signal, recorded: false, start: performance.now() }
  state.counters.total++
  state.counters.byEndpoint[endpoint]++
  state.inFlight.add(ac)
  res.setHeader('x-request-id', ctx.id)
  res.on('close', () => {
    state.inFlight.delete(ac)
    state.stalled.delete(res)
    if (!res.writableFinished) {
      ac.abort()
      state.record(ctx, 'aborted')
    }
  })
  handleApi(state, req, res, ctx, modelId).catch((err: unknown) => {
    if (res.headersSent) {
      // Failure in the middle of a stream: nothing sensible can be sent any more.
      state.record(ctx, 'server_error')
      res.destroy()
      return
    }
    if (err instanceof HttpError) {
      state.sendError(res, ctx, err)
      return
    }
    state.record(ctx, 'server_error')
    state.sendError(res, ctx, new HttpError(500, `groq-mock internal error: ${(err as Error).message}`,
      'internal_server_error', 'internal_server_error', 'server_error'))
  })
}

/** Starts the mock on `options.host`:`options.port` (defaults 127.0.0.1:0). */
export async function startGroqMock (options: GroqMockOptions = {}): Promise<GroqMock> {
  const { port: wantPort = 0, host = '127.0.0.1', ...runtime } = options
  const state = new MockState(runtime)
  let seq = 0
  let closing: Promise<void> | null = null

  const server = http.createServer({ noDelay: true, keepAlive: true }, (req, res) => {
    const path = new URL(req.url ?? '/', 'http://mock').pathname
    if (path.startsWith('/__mock/')) {
      handleControl(state, req, res, path)
      return
    }
    seq++
    serveApi(state, req, res, path, `req_${String(seq).padStart(8, '0')}`)
  })
  server.keepAliveTimeout = 30_000
  server.headersTimeout = 35_000
  server.requestTimeout = 0

  await new Promise<void>((resolve, reject) => {
    server.once('error', reject)
    server.listen(wantPort, host, () => {
      server.off('error', reject)
      resolve()
    })
  })
  const addr = server.address() as AddressInfo
  const urlHost = host === '0.0.0.0' ? '127.0.0.1' : host === '::' ? '[::1]' : host.includes(':') ? `[${host}]` : host

  return {
    url: `http://${urlHost}:${addr.port}`,
    port: addr.port,
    host,
    setOptions: (partial) => state.setOptions(partial),
    getOptions: () => structuredClone(state.opts),
    stats: () => state.stats(),
    resetStats: () => state.resetStats(),
    close: () => {
      closing ??= new Promise<void>((resolve) => {
        for (const ac of state.inFlight) ac.abort()
        server.close(() => resolve())
        server.closeAllConnections()
      })
      return closing
    }
  }
}

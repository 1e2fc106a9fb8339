/** `/__mock/*`: stats, options and health for tests and the load tester (no auth, not counted in stats). */
import type { IncomingMessage, ServerResponse } from 'node:http'
import { errorBody, readBody, sendJson } from '../http.js'
import type { MockState } from '../state.js'
import type { MockRuntimeOptions } from '../types.js'

const MAX_OPTIONS_BYTES = 1024 * 1024

function fail (res: ServerResponse, status: number, message: string): void {
  sendJson(res, status, errorBody(message, 'invalid_request_error', null))
}

/** `POST /__mock/options`: applies a JSON partial of the runtime options and answers with the result. */
function updateOptions (state: MockState, req: IncomingMessage, res: ServerResponse): void {
  readBody(req, MAX_OPTIONS_BYTES).then((buf) => {
    let partial: unknown
    try {
      partial = JSON.parse(buf.toString('utf8'))
    } catch {
      return fail(res, 400, 'body must be JSON')
    }
    if (partial === null || typeof partial !== 'object' || Array.isArray(partial)) return fail(res, 400, 'body must be a JSON object')
    try {
      state.setOptions(partial as Partial<MockRuntimeOptions>)
    } catch (e) {
      return fail(res, 400, (e as Error).message)
    }
    sendJson(res, 200, state.opts)
  }, () => fail(res, 400, 'could not read body'))
}

export function handleControl (state: MockState, req: IncomingMessage, res: ServerResponse, path: string): void {
  if (req.method === 'GET' && path === '/__mock/stats') return sendJson(res, 200, state.stats())
  if (req.method === 'GET' && path === '/__mock/options') return sendJson(res, 200, state.opts)
  if (req.method === 'GET' && path === '/__mock/health') return sendJson(res, 200, { ok: true })
  if (req.method === 'POST' && path === '/__mock/reset-stats') {
    state.resetStats()
    return sendJson(res, 200, state.stats())
  }
  if (req.method === 'POST' && path === '/__mock/options') return updateOptions(state, req, res)
  fail(res, 404, `Unknown mock control URL: ${req.method ?? 'GET'} ${path}`)
}

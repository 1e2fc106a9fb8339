import fastifyCors from '@fastify/cors'
import Fastify, { type FastifyInstance, type InjectOptions } from 'fastify'
import { afterAll, describe, expect, it } from 'vitest'
import cors, { CORS_ALLOWED_HEADERS, CORS_EXPOSED_HEADERS, CORS_METHODS } from '../../../src/plugins/external/cors.js'

const ORIGINS = ['http://localhost:5173', 'http://localhost:3000']

/** The same routes behind @fastify/cors with the options our plugin stands for, or behind ours. */
async function build (which: 'ours' | 'plugin', origins: string[]): Promise<FastifyInstance> {
  const app = Fastify()
  if (which === 'ours') {
    await app.register(cors, { origins })
  } else {
    await app.register(fastifyCors, {
      origin: origins,
      credentials: true,
      methods: CORS_METHODS,
      allowedHeaders: CORS_ALLOWED_HEADERS,
      exposedHeaders: CORS_EXPOSED_HEADERS,
      maxAge: 3600,
      strictPreflight: false
    })
  }
  app.get('/health', async () => ({ ok: true }))
  app.get('/varies', async (_request, reply) => reply.header('vary', 'Accept-Encoding').send({ ok: true }))
  app.post('/auth/login', async () => ({ ok: true }))
  await app.ready()
  return app
}

const REQUESTS: InjectOptions[] = [
  { method: 'GET', url: '/health' },
  { method: 'GET', url: '/health', headers: { origin: 'http://localhost:5173' } },
  { method: 'GET', url: '/health', headers: { origin: 'http://evil.example' } },
  { method: 'GET', url: '/varies', headers: { origin: 'http://localhost:3000' } },
  { method: 'GET', url: '/nowhere', headers: { origin: 'http://localhost:3000' } },
  { method: 'POST', url: '/auth/login', headers: { origin: 'http://localhost:5173', 'content-type': 'application/json' }, payload: '{}' },
  { method: 'OPTIONS', url: '/auth/login', headers: { origin: 'http://localhost:5173', 'access-control-request-method': 'POST', 'access-control-request-headers': 'content-type' } },
  { method: 'OPTIONS', url: '/auth/login', headers: { origin: 'http://evil.example', 'access-control-request-method': 'POST' } },
  { method: 'OPTIONS', url: '/anything/at/all' },
  { method: 'OPTIONS', url: '/health', headers: { origin: 'http://localhost:3000' } }
]

function comparable (response: { statusCode: number, headers: Record<string, unknown>, body: string }): unknown {
  const { date: _date, ...headers } = response.headers
  return { status: response.statusCode, headers, body: response.body }
}

describe('CORS', () => {
  const apps: FastifyInstance[] = []
  afterAll(async () => { await Promise.all(apps.map(async (app) => await app.close())) })

  for (const origins of [ORIGINS, ['*'], [...ORIGINS, '*']]) {
    it(`answers exactly as @fastify/cors with origins ${origins.join(' ')}`, async () => {
      const ours = await build('ours', origins)
      const plugin = await build('plugin', origins)
      apps.push(ours, plugin)
      for (const request of REQUESTS) {
        const [a, b] = await Promise.all([ours.inject(request), plugin.inject(request)])
        expect(comparable(a), `${request.method} ${request.url} ${JSON.stringify(request.headers)}`).toEqual(comparable(b))
        // Same header order too: clients see the same bytes.
        expect(Object.keys(a.headers)).toEqual(Object.keys(b.headers))
      }
    })
  }

  it('answers a preflight with 204 and the allowed methods, headers and max-age', async () => {
    const app = await build('ours', ORIGINS)
    apps.push(app)
    const response = await app.inject(REQUESTS[6]!)
    expect(response.statusCode).toBe(204)
    expect(response.headers).toMatchObject({
      'access-control-allow-origin': 'http://localhost:5173',
      'access-control-allow-credentials': 'true',
      'access-control-allow-methods': CORS_METHODS,
      'access-control-allow-headers': CORS_ALLOWED_HEADERS,
      'access-control-max-age': '3600',
      vary: 'Origin'
    })
  })
})

import { createServer, type Server } from 'node:http'
import type { AddressInfo } from 'node:net'
import helmet from 'helmet'
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest'
import { HELMET_OPTIONS, helmetHeaders } from '../../../src/plugins/external/security-headers.js'
import { buildTestApp, type TestApp } from '../../helpers/app.js'

// What helmet 8 sends with our options (CSP and COEP off, CORP cross-origin for <audio src>).
const EXPECTED = {
  'cross-origin-opener-policy': 'same-origin',
  'cross-origin-resource-policy': 'cross-origin',
  'origin-agent-cluster': '?1',
  'referrer-policy': 'no-referrer',
  'strict-transport-security': 'max-age=31536000; includeSubDomains',
  'x-content-type-options': 'nosniff',
  'x-dns-prefetch-control': 'off',
  'x-download-options': 'noopen',
  'x-frame-options': 'SAMEORIGIN',
  'x-permitted-cross-domain-policies': 'none',
  'x-xss-protection': '0'
}

describe('security headers', () => {
  it('are what helmet itself sets on a real response', async () => {
    const middleware = helmet({ ...HELMET_OPTIONS })
    const server: Server = createServer((req, res) => {
      res.setHeader('x-powered-by', 'something')
      middleware(req, res, () => res.end('{}'))
    })
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve))
    try {
      const res = await fetch(`http://127.0.0.1:${(server.address() as AddressInfo).port}/`)
      const fromHelmet = Object.fromEntries([...res.headers].filter(([name]) => name in EXPECTED || name === 'x-powered-by'))
      expect(fromHelmet).toEqual(EXPECTED)
      expect(helmetHeaders()).toEqual(EXPECTED)
    } finally {
      await new Promise((resolve) => server.close(resolve))
    }
  })

  describe('on every kind of response', () => {
    let t: TestApp
    beforeAll(async () => { t = await buildTestApp({ label: 'security_headers' }) })
    afterAll(async () => { await t.close() })

    const cases: Array<[string, () => Promise<{ statusCode: number, headers: Record<string, unknown> }>, number]> = [
      ['a 200', async () => await t.app.inject({ url: '/health' }), 200],
      ['a 404', async () => await t.app.inject({ url: '/no/such/route' }), 404],
      ['a 401', async () => await t.app.inject({ method: 'POST', url: '/ask', payload: { question: 'q' } }), 401],
      ['a 400', async () => await t.app.inject({ method: 'POST', url: '/auth/login', headers: { 'content-type': 'application/json' }, payload: '{"email":' }), 400],
      ['a 500', async () => {
        const spy = vi.spyOn(t.app.usersRepository, 'findByEmail').mockRejectedValueOnce(new Error('boom'))
        try {
          return await t.app.inject({ method: 'POST', url: '/auth/login', payload: { email: 'x@y.z', password: 'whatever1' }, remoteAddress: '10.9.9.9' })
        } finally {
          spy.mockRestore()
        }
      }, 500]
    ]
    it.each(cases)('%s', async (_name, request, status) => {
      const res = await request()
      expect(res.statusCode).toBe(status)
      expect(res.headers).toMatchObject(EXPECTED)
    })
  })
})

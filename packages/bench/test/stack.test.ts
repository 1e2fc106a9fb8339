import { describe, expect, it } from 'vitest'
import { baselineHeaders } from '../src/baseline.js'
import { parseCpuTicks, parseJlist, parseVmRssMb, stackEnv } from '../src/stack.js'

describe('stack helpers', () => {
  it('finds the process list in pm2 jlist output after its banner', () => {
    const out = [
      '__/\\\\\\ banner', '',
      JSON.stringify([{ pid: 101, pm_id: 1, pm2_env: { status: 'online', restart_time: 0 }, monit: { memory: 5 } },
        { pid: 100, pm_id: 0, pm2_env: { status: 'online', restart_time: 2 } }]),
      ''
    ].join('\n')
    expect(parseJlist(out)).toEqual([
      { pmId: 1, pid: 101, status: 'online', pm2MemoryBytes: 5, restarts: 0 },
      { pmId: 0, pid: 100, status: 'online', pm2MemoryBytes: 0, restarts: 2 }
    ])
    expect(parseJlist('x\n[]\n')).toEqual([])
    expect(() => parseJlist('nothing')).toThrow()
  })

  it('reads VmRSS in MiB and CPU ticks from /proc files', () => {
    expect(parseVmRssMb('Name:\tnode\nVmRSS:\t  131072 kB\nVmSwap: 0 kB\n')).toBe(128)
    expect(Number.isNaN(parseVmRssMb('Name: x'))).toBe(true)
    // The command name may contain spaces and parentheses.
    const stat = '1234 (node (worker) x) S 1 2 3 4 5 6 7 8 9 10 150 25 0 0 20 0 11'
    expect(parseCpuTicks(stat)).toBe(175)
  })

  it('raises every limit the bench would hit and sets no database for --embedded', () => {
    const env = stackEnv({ workers: 2, bcryptCost: 12, databaseUrl: undefined, redisUrl: undefined, groqBaseUrl: 'http://127.0.0.1:1' }, 8080, '/tmp/d', 's', 'p:')
    expect(env).toMatchObject({
      PORT: '8080',
      HOST: '127.0.0.1',
      DATA_DIR: '/tmp/d',
      WEB_CONCURRENCY: '2',
      BCRYPT_COST: '12',
      LOG_LEVEL: 'warn',
      RATE_LIMIT_LOGIN: '1000000 per minute',
      RATE_LIMIT_DEFAULT: '100000000 per day; 100000000 per hour',
      GROQ_API_KEY: 'bench',
      GROQ_BASE_URL: 'http://127.0.0.1:1',
      QUERY_CACHE_TTL: '0',
      SUPABASE_JWT_SECRET: 's'
    })
    expect(env.DATABASE_URL).toBeUndefined()
    expect(env.REDIS_URL).toBeUndefined()
    expect(Number(env.QUERY_LIMIT_PER_DAY)).toBeGreaterThan(1e6)
  })

  it('copies response headers to the bare server except connection-level ones', () => {
    expect(baselineHeaders({ 'x-frame-options': 'DENY', date: 'x', 'content-length': '3', connection: 'keep-alive', 'keep-alive': 't' }))
      .toEqual({ 'x-frame-options': 'DENY' })
  })
})

import { describe, expect, it } from 'vitest'
import { fullPlan, parseCommand, parseEnvPairs, parsePhases, quickPlan, UsageError, type BenchOptions } from '../src/args.js'

const run = (argv: string[], env: NodeJS.ProcessEnv = {}, cpus = 2): BenchOptions => {
  const command = parseCommand(argv, env, cpus)
  if (command.command !== 'run') throw new Error(`expected a run, got ${command.command}`)
  return command
}

describe('parseCommand', () => {
  it('defaults to a full run of every phase with the machine\'s worker count and cost 12', () => {
    const o = run([])
    expect(o.quick).toBe(false)
    expect(o.workers).toBe(2)
    expect(o.bcryptCost).toBe(12)
    expect(o.llmLatencyMs).toBe(2000)
    expect(o.phases).toEqual(['health', 'instructions', 'login', 'ask', 'ingest', 'memory'])
    expect(o.redis).toBe(false)
    expect(o.embedded).toBe(false)
    expect(o.adminDatabaseUrl).toBe('postgres://postgres@127.0.0.1:5432/postgres')
    expect(o.plan).toEqual(fullPlan())
  })

  it('reads WEB_CONCURRENCY (0 meaning one per CPU), BCRYPT_COST and BENCH_ADMIN_DATABASE_URL', () => {
    expect(run([], { WEB_CONCURRENCY: '3' }).workers).toBe(3)
    expect(run([], { WEB_CONCURRENCY: '0' }, 4).workers).toBe(4)
    expect(run([], { BCRYPT_COST: '10' }).bcryptCost).toBe(10)
    expect(run([], { BENCH_ADMIN_DATABASE_URL: 'postgres://x@h/db' }).adminDatabaseUrl).toBe('postgres://x@h/db')
  })

  it('--quick keeps every phase short', () => {
    const o = run(['--quick'])
    expect(o.plan).toEqual(quickPlan())
    const p = o.plan
    const loadSeconds = p.health.rounds * 2 * (p.health.warmupSec + p.health.measureSec) + 2 * p.bcrypt.seconds +
      p.login.measureSec + p.ask.warmupSec + p.ask.measureSec + p.ingest.idleProbeSec
    expect(loadSeconds).toBeLessThan(30)
  })

  it('applies overrides', () => {
    const o = run(['--quick', '--duration', '7', '--ask-connections', '50', '--health-connections', '64', '--login-connections', '8',
      '--ingest-mb', '3.5', '--workers', '4', '--bcrypt-cost', '10', '--llm-latency', '500', '--redis', '--embedded',
      '--json', 'out.json', '--fail-on-goals', '--cpu-prof', 'prof', '--env', 'DB_POOL_MAX=20', '--env', 'A=b=c', '--repo', '/tmp/x'])
    expect(o.plan.health.measureSec).toBe(7)
    expect(o.plan.login.measureSec).toBe(7)
    expect(o.plan.ask.measureSec).toBe(7)
    expect(o.plan.ask.connections).toBe(50)
    expect(o.plan.health.connections).toBe(64)
    expect(o.plan.login.connections).toBe(8)
    expect(o.plan.ingest.targetBytes).toBe(3_500_000)
    expect(o).toMatchObject({ workers: 4, bcryptCost: 10, llmLatencyMs: 500, redis: true, embedded: true, jsonFile: 'out.json', failOnGoals: true, cpuProfDir: 'prof', repoRoot: '/tmp/x' })
    expect(o.extraEnv).toEqual({ DB_POOL_MAX: '20', A: 'b=c' })
  })

  it('refuses bad values and unknown flags with a UsageError', () => {
    expect(() => run(['--workers', '0'])).toThrow(UsageError)
    expect(() => run(['--bcrypt-cost', '3'])).toThrow(UsageError)
    expect(() => run(['--duration', 'x'])).toThrow(UsageError)
    expect(() => run(['--nope'])).toThrow(UsageError)
    expect(() => run(['extra'])).toThrow(UsageError)
    expect(() => parseEnvPairs(['=x'])).toThrow(UsageError)
  })

  it('parses the profile and help commands', () => {
    expect(parseCommand(['profile', 'a.cpuprofile', 'dir', '--top', '5'])).toEqual({ command: 'profile', paths: ['a.cpuprofile', 'dir'], top: 5 })
    expect(() => parseCommand(['profile'])).toThrow(UsageError)
    expect(parseCommand(['-h'])).toEqual({ command: 'help' })
  })
})

describe('parsePhases', () => {
  it('keeps the canonical order and refuses unknown phases', () => {
    expect(parsePhases('memory, health')).toEqual(['health', 'memory'])
    expect(() => parsePhases('health,bogus')).toThrow(UsageError)
    expect(() => parsePhases(',')).toThrow(UsageError)
  })
})

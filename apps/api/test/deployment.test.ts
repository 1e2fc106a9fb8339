import { execFileSync } from 'node:child_process'
import { existsSync, readFileSync } from 'node:fs'
import { join } from 'node:path'
import { describe, expect, it } from 'vitest'
import { parse } from 'yaml'
import { loadConfig } from '../src/config.js'
import { buildTestApp } from './helpers/app.js'
import { REPO_ROOT } from './helpers/cluster.js'

// No Docker engine runs on our machines, so the self-hosting files are checked statically:
// `docker compose config` where the CLI has compose, and a structural check of the YAML always.

interface ComposeService {
  image?: string
  build?: string
  profiles?: string[]
  volumes?: string[]
  ports?: string[]
  environment?: Record<string, string>
  depends_on?: Record<string, { condition: string }>
  healthcheck?: { test: string[] }
}

const composeText = readFileSync(join(REPO_ROOT, 'docker-compose.yml'), 'utf8')
const compose = parse(composeText) as { services: Record<string, ComposeService> }

/** Resolves `${VAR:-default}` / `${VAR:?message}` as compose would with the given variables set. */
function interpolate (value: string, vars: Record<string, string>): string {
  return value.replace(/\$\{(\w+)(?::([-?])([^}]*))?\}/g, (_m, name: string, op: string | undefined, arg: string | undefined) => {
    const set = vars[name]
    if (set !== undefined && set !== '') return set
    if (op === '?') throw new Error(`${name} is required: ${arg ?? ''}`)
    return op === '-' ? (arg ?? '') : ''
  })
}

function hasComposeCli (): boolean {
  try {
    execFileSync('docker', ['compose', 'version'], { stdio: 'ignore' })
    return true
  } catch {
    return false
  }
}

describe('docker-compose.yml', () => {
  const { postgres, redis, api } = compose.services

  it('runs PostgreSQL 16, Redis 7 and the API built from the Dockerfile', () => {
    const byDefault = Object.entries(compose.services).filter(([, service]) => service.profiles === undefined).map(([name]) => name)
    expect(byDefault.sort()).toEqual(['api', 'postgres', 'redis'])
    expect(postgres?.image).toMatch(/^postgres:16/)
    expect(redis?.image).toMatch(/^redis:7/)
    expect(api?.build).toBe('.')
    // eslint-disable-next-line no-template-curly-in-string -- compose interpolation, not a template
    expect(api?.ports).toEqual(['${PORT:-8080}:8080'])
  })

  it('gives every service a healthcheck and starts the API only once its stores are healthy', () => {
    for (const service of [postgres, redis, api]) expect(service?.healthcheck?.test.length).toBeGreaterThan(0)
    expect(postgres?.healthcheck?.test.join(' ')).toMatch(/pg_isready/)
    expect(redis?.healthcheck?.test.join(' ')).toMatch(/redis-cli ping/)
    expect(api?.healthcheck?.test.join(' ')).toMatch(/\/health\/ready/)
    expect(api?.depends_on).toEqual({ postgres: { condition: 'service_healthy' }, redis: { condition: 'service_healthy' } })
  })

  it('wires the API to its stores with an environment our config accepts, and insists on a JWT secret', () => {
    const env = api?.environment ?? {}
    expect(() => interpolate(env.SUPABASE_JWT_SECRET ?? '', {})).toThrow(/SUPABASE_JWT_SECRET is required/)
    const resolved = Object.fromEntries(Object.entries(env).map(([k, v]) => [k, interpolate(String(v), { SUPABASE_JWT_SECRET: 'x'.repeat(48) })]))
    const config = loadConfig(resolved)
    expect(config.host).toBe('0.0.0.0')
    expect(config.port).toBe(8080)
    expect(config.databaseUrl).toBe('postgres://documind:documind@postgres:5432/documind')
    expect(config.redisUrl).toBe('redis://redis:6379')
    expect(config.groq.apiKey).toBeUndefined()
    expect(config.smtpUrl).toBeUndefined()
    // /metrics on its own port for the compose network, which publishes only the API port.
    expect(config.metrics).toMatchObject({ port: 9464, host: '0.0.0.0' })
    expect(postgres?.environment?.POSTGRES_DB).toBe('documind')
  })

  // Only where the compose plugin exists; the structural checks above run everywhere.
  it.runIf(hasComposeCli())('passes `docker compose config`', () => {
    const out = execFileSync('docker', ['compose', '-f', join(REPO_ROOT, 'docker-compose.yml'), 'config', '--format', 'json'], {
      env: { ...process.env, SUPABASE_JWT_SECRET: 'x'.repeat(48) }
    }).toString()
    expect(Object.keys(JSON.parse(out).services).sort()).toEqual(['api', 'postgres', 'redis'])
  })
})

describe('the observability profile (deploy/)', () => {
  const { prometheus, grafana } = compose.services
  const prometheusConfig = readFileSync(join(REPO_ROOT, 'deploy/prometheus/prometheus.yml'), 'utf8')
  const dashboard = JSON.parse(readFileSync(join(REPO_ROOT, 'deploy/grafana/dashboards/documind-api.json'), 'utf8')) as {
    panels: Array<{ title: string, targets: Array<{ expr: string, datasource: { uid: string } }> }>
  }

  it('adds Prometheus and Grafana, on loopback only, with files that exist', () => {
    for (const service of [prometheus, grafana]) {
      expect(service?.profiles).toEqual(['observability'])
      for (const port of service?.ports ?? []) expect(port).toMatch(/^127\.0\.0\.1:/)
      for (const volume of service?.volumes ?? []) {
        if (volume.startsWith('./')) expect(existsSync(join(REPO_ROOT, volume.split(':')[0]!)), volume).toBe(true)
      }
    }
  })

  it('scrapes the port the API serves /metrics on', () => {
    const scraped = parse(prometheusConfig) as { scrape_configs: Array<{ job_name: string, static_configs: Array<{ targets: string[] }> }> }
    expect(scraped.scrape_configs.map((c) => c.job_name)).toEqual(['documind'])
    expect(scraped.scrape_configs[0]!.static_configs[0]!.targets).toEqual([`api:${String(compose.services.api?.environment?.METRICS_PORT)}`])
    const datasource = parse(readFileSync(join(REPO_ROOT, 'deploy/grafana/provisioning/datasources/prometheus.yml'), 'utf8')) as { datasources: Array<{ uid: string, url: string }> }
    for (const panel of dashboard.panels) for (const target of panel.targets) expect(target.datasource.uid).toBe(datasource.datasources[0]!.uid)
  })

  it('charts only metrics the API exports', async () => {
    const t = await buildTestApp({ label: 'dashboard', env: { METRICS_TOKEN: 'dashboard-test-token-0123456789' } })
    try {
      const res = await t.app.inject({ url: '/metrics', headers: { authorization: 'Bearer dashboard-test-token-0123456789' } })
      expect(res.statusCode).toBe(200)
      const exported = new Map([...res.body.matchAll(/^# TYPE (\w+) (\w+)$/gm)].map((m) => [m[1]!, m[2]!]))
      const charted = new Set(dashboard.panels.flatMap((p) => p.targets.flatMap((target) => [...target.expr.matchAll(/\b([a-z_]+)\{/g)].map((m) => m[1]!))))
      expect(charted.size).toBeGreaterThan(10)
      for (const name of charted) {
        const base = name.replace(/_(bucket|count|sum)$/, '')
        const type = exported.get(name) ?? exported.get(base)
        expect(type, name).toBeDefined()
        if (name !== base && exported.get(name) === undefined) expect(type, name).toBe('histogram')
      }
    } finally {
      await t.close()
    }
  })
})

describe('Dockerfile', () => {
  const dockerfile = readFileSync(join(REPO_ROOT, 'Dockerfile'), 'utf8')

  it('is a multi-stage build that runs the compiled API with pm2-runtime', () => {
    expect(dockerfile.match(/^FROM node:20/gm)).toHaveLength(2)
    expect(dockerfile).toMatch(/npm run build -w @documind\/api/)
    expect(dockerfile).toMatch(/npm prune --omit=dev/)
    expect(dockerfile).toMatch(/^CMD \["node_modules\/\.bin\/pm2-runtime", "start", "pm2\.config\.js"\]/m)
    expect(dockerfile).toMatch(/^HEALTHCHECK /m)
    expect(dockerfile).toMatch(/^USER node/m)
  })

  it('copies only files that exist in the repository', () => {
    const sources = [...dockerfile.matchAll(/^COPY (?!--from)(.+) \S+$/gm)].flatMap((m) => m[1]!.split(/\s+/))
    expect(sources.length).toBeGreaterThan(5)
    for (const source of sources) expect(existsSync(join(REPO_ROOT, source)), source).toBe(true)
  })
})

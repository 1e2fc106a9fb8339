import { parseArgs } from 'node:util'
import { defaultConfig, type LoadTestConfig } from './config.js'
import type { Requirement } from './grades.js'
import { isScenarioName, SCENARIO_NAMES, type ScenarioName } from './model.js'
import { parseThreshold } from './thresholds.js'
import { parseDuration, parseSize } from './units.js'

export const HELP = `DocuMind Voice load tester

Usage: npm run loadtest -- [options]
       node packages/loadtest/dist/cli.js [options]

Without --target it builds what is missing (npm run build), starts groq-mock in-process and the
API launcher (node apps/api/dist/cli/start.js) on a free port with a temporary DATA_DIR, runs
the scenarios, then stops everything (also on Ctrl-C). With --target it starts nothing.

Scenarios (default: all, in this order):
  health     100 x GET /health, 100 concurrent; expect 200
  signups    30 concurrent signups from ONE address; exactly 3 succeed, 27 get 429 (3/hour/address)
  logins     100 concurrent logins, valid and wrong passwords of real users, 10 per address:
             valid -> 200, wrong -> 401, exactly 5 answers per address per minute, then 429
  stress     200 concurrent mixed operations: 40% health, 30% login, 20% signup,
             10% authenticated reads (/auth/me, /documents, /limits); expect no 5xx, > 85% success
  query      POST /ask over users who uploaded a PDF first; plus one user asking 51 questions:
             exactly 50 answered, then 429 (daily quota)
  upload     concurrent uploads of generated PDFs (--upload-size), 6 per user: exactly 5 stored,
             the 6th refused with 403 (5 documents per user)
  sustained  --duration of steady traffic (--rate req/s) from --users virtual users: health,
             logins, /documents, /ask, /limits, all within the limits (so any 429 is a failure)

Options:
  --target URL            test a running deployment; start nothing
  --scenario NAMES        comma-separated subset, e.g. health,signups (repeatable)
  --duration TIME         length of the sustained scenario (default 30s; e.g. 2m, 90s)
  --rate N                sustained target request rate, req/s (default 30, the guide's sustained
                          load; 0 = as fast as possible)
  --users N               sustained virtual users (default 100; users of earlier scenarios are
                          reused, the rest are signed up first)
  --connections N         concurrency of query, upload and sustained (default 50); health,
                          signups, logins and stress use the guide's fixed concurrency
  --questions N           questions in the query scenario (default 100, 10 per user)
  --upload-size SIZE      size of each uploaded PDF (default 1MB; binary units, 1MB = 1 MiB;
                          above 10MB every upload must be refused with 413)
  --upload-users N        users in the upload scenario, 6 uploads each (default 10)
  --llm-latency MS        local stack: groq-mock answer latency in ms (default 2000)
  --workers N             local stack: API worker processes, WEB_CONCURRENCY (default: CPU count)
  --timeout TIME          per-request timeout (default 60s); a timeout counts as a failure
  --ready-timeout TIME    local stack: wait for GET /health/ready (default 120s)
  --no-build              local stack: never run npm run build; use the existing dist even if
                          it is older than the sources
  --launcher-log FILE     local stack: keep the launcher's output (banner and worker logs, e.g.
                          the cause of a 5xx) in FILE; otherwise it goes with the temp dir
  --xff / --no-xff        send a per-virtual-user X-Forwarded-For address (default --xff).
                          The local stack trusts it (TRUST_PROXY=127.0.0.1,::1). Against a
                          --target, a probe checks that the deployment honours it; if not, the
                          run falls back to "single address" mode and says so.
  --login-email EMAIL     existing account, used in single-address mode (a --target that does
  --login-password PASS   not trust X-Forwarded-For), where new users are limited to 3 per hour
  --metrics-url URL       where the target's Prometheus metrics are (default <target>/metrics);
                          scraped before, every second during and after each scenario to show
                          where the server spent the time. The local stack's are always read.
  --metrics-token TOKEN   bearer token for --metrics-url (the deployment's METRICS_TOKEN, e.g.
                          the content of its DATA_DIR/metrics-token); default $METRICS_TOKEN
  --threshold EXPR        k6-style check, repeatable: <scenario>.<metric><op><number>
                          scenario: ${SCENARIO_NAMES.join(', ')} or overall
                          metric: p50 (median), p90, p95, p99, avg, min, max (ms; "2s" allowed),
                          rps, successRate, errorRate (percent), total, successful, failed,
                          rateLimited, errors, timeouts, http2xx, http4xx, http5xx
                          op: < <= > >= == !=      e.g. --threshold 'health.p95<50'
  --require LEVEL         also fail (exit 1) unless a full run earns this verdict: none
                          (default: only expectations and thresholds decide), production-ready
                          or excellent
  --json FILE             write every figure as JSON
  --html FILE             write a self-contained HTML report (inline SVG charts, works offline)
  -q, --quiet             no live progress and no per-scenario details; summary only
  -h, --help              this help
  --version               print the version

Counting (also in the report's "definitions"):
  successful   answers the API contract expects: 2xx (with success:true where the body has it),
               plus expected refusals: 401 for wrong credentials, 403 for a 6th document,
               413 for an oversized file, and 429 where the rate-limit model predicts one
  success rate successful / total x 100 (total includes requests that got no answer)
  rate limited every 429, counted apart; an expected 429 is not an error, and the exact
               number of 429s is verified by the rate-limit checks
  percentiles  nearest rank over every latency: sorted[ceil(p/100 x n) - 1]
  throughput   requests / duration (first request to last answer); the criteria use all
               scenarios except sustained, whose rate is set by --rate

Grades (the original guide): success >= 95% EXCELLENT, >= 85% GOOD, >= 70% FAIR, else POOR;
P95 < 2 s EXCELLENT, < 3 s GOOD, else SLOW. Production ready: success > 90%, average < 1.5 s,
P95 < 3 s, > 30 req/s, rate limiting exact, no crashes. Excellent: success > 95%, average < 1 s,
P95 < 2 s, > 50 req/s, error rate < 5%.

Exit code: 0 every check passed; 1 a check failed (limits not exact, 5xx, connection errors,
a --threshold, the --require verdict, the stack failing); 2 bad usage; 130/143 interrupted.
`

export class UsageError extends Error {}

function positiveInt (name: string, value: string | undefined, min = 1): number | undefined {
  if (value === undefined) return undefined
  const n = Number(value)
  if (!Number.isInteger(n) || n < min) throw new UsageError(`--${name} must be an integer >= ${min}, got "${value}"`)
  return n
}

function wrap<T> (name: string, fn: () => T): T {
  try {
    return fn()
  } catch (err) {
    throw new UsageError(`--${name}: ${(err as Error).message}`)
  }
}

export interface ParsedArgs {
  help: boolean
  version: boolean
  config: LoadTestConfig
}

export function parseCliArgs (argv: string[]): ParsedArgs {
  let values
  try {
    ({ values } = parseArgs({
      args: argv,
      strict: true,
      allowPositionals: false,
      options: {
        target: { type: 'string' },
        scenario: { type: 'string', multiple: true },
        scenarios: { type: 'string', multiple: true },
        duration: { type: 'string' },
        rate: { type: 'string' },
        users: { type: 'string' },
        connections: { type: 'string' },
        questions: { type: 'string' },
        'upload-size': { type: 'string' },
        'upload-users': { type: 'string' },
        'llm-latency': { type: 'string' },
        workers: { type: 'string' },
        timeout: { type: 'string' },
        'ready-timeout': { type: 'string' },
        'no-build': { type: 'boolean' },
        'launcher-log': { type: 'string' },
        xff: { type: 'boolean' },
        'no-xff': { type: 'boolean' },
        'login-email': { type: 'string' },
        'login-password': { type: 'string' },
        'metrics-url': { type: 'string' },
        'metrics-token': { type: 'string' },
        threshold: { type: 'string', multiple: true },
        require: { type: 'string' },
        json: { type: 'string' },
        html: { type: 'string' },
        quiet: { type: 'boolean', short: 'q' },
        help: { type: 'boolean', short: 'h' },
        version: { type: 'boolean' }
      }
    }))
  } catch (err) {
    throw new UsageError((err as Error).message)
  }
  const config = defaultConfig()
  if (values.target !== undefined) {
    let url: URL
    try {
      url = new URL(values.target)
    } catch {
      throw new UsageError(`--target must be a URL such as http://127.0.0.1:8080, got "${values.target}"`)
    }
    if (url.protocol !== 'http:' && url.protocol !== 'https:') throw new UsageError('--target must be an http:// or https:// URL')
    config.target = values.target.replace(/\/+$/, '')
  }
  const scenarioArgs = [...(values.scenario ?? []), ...(values.scenarios ?? [])]
  if (scenarioArgs.length > 0) {
    const names = scenarioArgs.flatMap((s) => s.split(',')).map((s) => s.trim()).filter((s) => s !== '')
    const wanted = new Set<ScenarioName>()
    for (const n of names) {
      if (n === 'all') { SCENARIO_NAMES.forEach((s) => wanted.add(s)); continue }
      if (!isScenarioName(n)) throw new UsageError(`unknown scenario "${n}" (use ${SCENARIO_NAMES.join(', ')} or all)`)
      wanted.add(n)
    }
    // Always in the canonical order: later scenarios reuse users made by earlier ones.
    config.scenarios = SCENARIO_NAMES.filter((s) => wanted.has(s))
  }
  if (values.duration !== undefined) config.sustained.durationMs = wrap('duration', () => parseDuration(values.duration!))
  const rate = positiveInt('rate', values.rate, 0)
  if (rate !== undefined) config.sustained.rate = rate
  config.sustained.users = positiveInt('users', values.users) ?? config.sustained.users
  config.connections = positiveInt('connections', values.connections) ?? config.connections
  config.query.questions = positiveInt('questions', values.questions) ?? config.query.questions
  if (values['upload-size'] !== undefined) config.upload.sizeBytes = wrap('upload-size', () => parseSize(values['upload-size']!))
  config.upload.users = positiveInt('upload-users', values['upload-users']) ?? config.upload.users
  config.llmLatencyMs = positiveInt('llm-latency', values['llm-latency'], 0) ?? config.llmLatencyMs
  config.workers = positiveInt('workers', values.workers) ?? config.workers
  if (values.timeout !== undefined) config.timeoutS = wrap('timeout', () => parseDuration(values.timeout!)) / 1000
  if (values['ready-timeout'] !== undefined) config.readyTimeoutMs = wrap('ready-timeout', () => parseDuration(values['ready-timeout']!))
  config.build = values['no-build'] !== true
  config.launcherLog = values['launcher-log']
  if (values.xff === true && values['no-xff'] === true) throw new UsageError('--xff and --no-xff are exclusive')
  config.xff = values['no-xff'] !== true
  if ((values['login-email'] === undefined) !== (values['login-password'] === undefined)) {
    throw new UsageError('--login-email and --login-password go together')
  }
  config.loginEmail = values['login-email']
  config.loginPassword = values['login-password']
  if (values['metrics-url'] !== undefined) {
    if (!/^https?:\/\//.test(values['metrics-url'])) throw new UsageError('--metrics-url must be an http:// or https:// URL')
    config.metricsUrl = values['metrics-url']
  }
  config.metricsToken = values['metrics-token'] ?? (process.env.METRICS_TOKEN === '' ? undefined : process.env.METRICS_TOKEN)
  config.thresholds = (values.threshold ?? []).map((t) => wrap('threshold', () => parseThreshold(t, config.scenarios)))
  if (values.require !== undefined) {
    if (!['none', 'production-ready', 'excellent'].includes(values.require)) {
      throw new UsageError(`--require must be none, production-ready or excellent, got "${values.require}"`)
    }
    config.require = values.require as Requirement
  }
  config.jsonFile = values.json
  config.htmlFile = values.html
  config.quiet = values.quiet === true
  return { help: values.help === true, version: values.version === true, config }
}

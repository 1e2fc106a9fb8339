#!/usr/bin/env node
import { parseArgs } from 'node:util'
import { startGroqMock } from './server.js'
import type { GroqMockOptions } from './types.js'

const USAGE = `Usage: groq-mock [options]

Groq-compatible mock API on loopback (use the printed URL as groq-sdk baseURL / GROQ_BASE_URL).

Options:
  --port <n>          TCP port (default 4010, 0 = ephemeral)
  --host <addr>       interface to bind (default 127.0.0.1)
  --latency <ms>      delay before each response (default 0)
  --jitter <ms>       extra random delay in [0, ms] (default 0)
  --fail-rate <0..1>  probability of an injected failure (default 0)
  --fail-mode <m>     429 | 500 | stall (default 500)
  --fail-next <n>     fail exactly the next n requests (default 0)
  --retry-after <s>   retry-after seconds on 429 (default 1)
  --seed <n>          seed for jitter / fail-rate randomness
  --no-auth           do not require an Authorization header
  -h, --help          show this help
`

function num (name: string, raw: string | undefined): number | undefined {
  if (raw === undefined) return undefined
  const n = Number(raw)
  if (raw.trim() === '' || !Number.isFinite(n)) throw new Error(`--${name} expects a number, got "${raw}"`)
  return n
}

async function main (): Promise<void> {
  const { values } = parseArgs({
    options: {
      port: { type: 'string', default: '4010' },
      host: { type: 'string', default: '127.0.0.1' },
      latency: { type: 'string' },
      jitter: { type: 'string' },
      'fail-rate': { type: 'string' },
      'fail-mode': { type: 'string' },
      'fail-next': { type: 'string' },
      'retry-after': { type: 'string' },
      seed: { type: 'string' },
      'no-auth': { type: 'boolean', default: false },
      help: { type: 'boolean', short: 'h', default: false }
    },
    strict: true,
    allowPositionals: false
  })
  if (values.help === true) {
    process.stdout.write(USAGE)
    return
  }
  const options: GroqMockOptions = {
    port: num('port', values.port),
    host: values.host,
    latencyMs: num('latency', values.latency),
    jitterMs: num('jitter', values.jitter),
    failRate: num('fail-rate', values['fail-rate']),
    failMode: values['fail-mode'] as GroqMockOptions['failMode'],
    failNext: num('fail-next', values['fail-next']),
    retryAfterSeconds: num('retry-after', values['retry-after']),
    seed: num('seed', values.seed)
  }
  if (values['no-auth'] === true) options.requireAuth = false
  const mock = await startGroqMock(options)
  const o = mock.getOptions()
  process.stdout.write(`groq-mock listening on ${mock.url} (latency ${o.latencyMs}ms, jitter ${o.jitterMs}ms, ` +
    `fail-rate ${o.failRate}, fail-mode ${o.failMode})\n`)

  let stopping = false
  const stop = (signal: NodeJS.Signals): void => {
    if (stopping) {
      process.exit(1)
    }
    stopping = true
    process.stdout.write(`groq-mock: ${signal} received, shutting down\n`)
    mock.close().then(() => {
      const s = mock.stats()
      process.stdout.write(`groq-mock: stopped after ${s.total} requests ${JSON.stringify(s.byOutcome)}\n`)
      process.exitCode = 0
    }, (err: unknown) => {
      process.stderr.write(`groq-mock: error while closing: ${String(err)}\n`)
      process.exitCode = 1
    })
  }
  process.on('SIGINT', stop)
  process.on('SIGTERM', stop)
}

main().catch((err: unknown) => {
  process.stderr.write(`groq-mock: ${err instanceof Error ? err.message : String(err)}\n\n${USAGE}`)
  process.exitCode = 1
})

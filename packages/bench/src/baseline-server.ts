// The references for GET /health, under node:cluster with the stack's worker count, answering with
// the same status, headers and JSON body the real /health sent (captured at run time and passed in
// BASELINE_RESPONSE):
//   BASELINE_KIND=node     a bare node:http server: the machine's limit;
//   BASELINE_KIND=fastify  a bare Fastify app with that one route and no plugins: the framework's floor.
// The primary prints one line, `baseline ready <port> pids <pid,pid>`, once every worker listens.
// BASELINE_WORKERS=0 serves from this one process, without node:cluster (the callgrind referee runs
// it under valgrind, which must see the process that answers).
import cluster from 'node:cluster'
import { createServer } from 'node:http'
import Fastify from 'fastify'

interface BaselineResponse {
  headers: Record<string, string>
  body: string
}

const port = Number(process.env.BASELINE_PORT ?? '0')
const host = process.env.BASELINE_HOST ?? '127.0.0.1'
const workers = Math.max(0, Number(process.env.BASELINE_WORKERS ?? '1'))
const response = JSON.parse(process.env.BASELINE_RESPONSE ?? '{"headers":{},"body":"{}"}') as BaselineResponse
const kind = process.env.BASELINE_KIND === 'fastify' ? 'fastify' : 'node'

if (cluster.isPrimary && workers > 0) {
  let stopping = false
  let listening = 0
  cluster.on('listening', () => {
    listening++
    if (listening === workers) {
      const pids = Object.values(cluster.workers ?? {}).map((w) => w?.process.pid).join(',')
      process.stdout.write(`baseline ready ${port} pids ${pids}\n`)
    }
  })
  cluster.on('exit', (_worker, code, signal) => {
    if (!stopping) {
      process.stderr.write(`baseline worker exited (${signal ?? code})\n`)
      process.exit(1)
    }
  })
  const stop = (): void => {
    stopping = true
    for (const worker of Object.values(cluster.workers ?? {})) worker?.kill()
    setTimeout(() => process.exit(0), 500).unref()
  }
  process.on('SIGTERM', stop)
  process.on('SIGINT', stop)
  for (let i = 0; i < workers; i++) cluster.fork()
} else if (kind === 'node') {
  const body = Buffer.from(response.body)
  const headers = { ...response.headers, 'content-length': String(body.length) }
  const server = createServer((_req, res) => {
    res.writeHead(200, headers)
    res.end(body)
  })
  server.listen(port, host, () => { if (workers === 0) process.stdout.write(`baseline ready ${port} pids ${process.pid}\n`) })
  process.on('SIGTERM', () => { server.close(); process.exit(0) })
} else {
  // Default options (no logger), the same headers set per request as our app's hooks do, and the
  // body serialized per request as our app's response schema does.
  const app = Fastify()
  const value: unknown = JSON.parse(response.body)
  app.get('/health', {
    schema: { response: { 200: { type: 'object', additionalProperties: true } } }
  }, async (_request, reply) => {
    reply.headers(response.headers)
    return value
  })
  await app.listen({ port, host })
  if (workers === 0) process.stdout.write(`baseline ready ${port} pids ${process.pid}\n`)
  process.on('SIGTERM', () => { app.close().finally(() => process.exit(0)) })
}

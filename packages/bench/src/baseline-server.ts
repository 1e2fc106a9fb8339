// The reference for GET /health: a bare node:http server under node:cluster, same worker count,
// answering every request with the same status, headers and JSON body the real /health sent
// (captured at run time and passed in BASELINE_RESPONSE). The primary prints one line,
// `baseline ready <port> pids <pid,pid>`, once every worker listens.
import cluster from 'node:cluster'
import { createServer } from 'node:http'

interface BaselineResponse {
  headers: Record<string, string>
  body: string
}

const port = Number(process.env.BASELINE_PORT ?? '0')
const host = process.env.BASELINE_HOST ?? '127.0.0.1'
const workers = Math.max(1, Number(process.env.BASELINE_WORKERS ?? '1'))
const response = JSON.parse(process.env.BASELINE_RESPONSE ?? '{"headers":{},"body":"{}"}') as BaselineResponse

if (cluster.isPrimary) {
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
} else {
  const body = Buffer.from(response.body)
  const headers = { ...response.headers, 'content-length': String(body.length) }
  const server = createServer((_req, res) => {
    res.writeHead(200, headers)
    res.end(body)
  })
  server.listen(port, host)
  process.on('SIGTERM', () => { server.close(); process.exit(0) })
}

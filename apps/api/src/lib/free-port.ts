import { createServer } from 'node:net'

/**
 * A TCP port that was free on `host` a moment ago (the OS picks it; the probe socket is closed
 * before returning). Rejects rather than ever resolving 0, which would let the caller's server pick
 * yet another port than the one it announces. The launcher uses it for the embedded PostgreSQL;
 * @documind/harness re-exports it for the tests, the load tester and the bench.
 */
export async function freePort (host = '127.0.0.1'): Promise<number> {
  return await new Promise((resolve, reject) => {
    const server = createServer()
    server.unref()
    server.on('error', reject)
    server.listen(0, host, () => {
      const address = server.address()
      const port = typeof address === 'object' && address !== null ? address.port : 0
      server.close(() => port > 0 ? resolve(port) : reject(new Error(`no free port on ${host}`)))
    })
  })
}

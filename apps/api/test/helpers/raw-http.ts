/**
 * HTTP over a bare socket (node:net), for what inject() cannot send: broken request lines, oversized
 * headers, bodies that arrive slowly or never finish.
 */
import { connect, type Socket } from 'node:net'

export interface RawAnswer {
  /** 0 when nothing (or no status line) came back. */
  status: number
  /** Lower-cased names; a repeated header keeps its last value. */
  headers: Record<string, string>
  body: string
  /** Everything the server sent, including any answer after the first. */
  text: string
  /** From connect to the server closing the connection. */
  ms: number
}

export interface RawRequest {
  port: number
  /** Sent at once on connect: request line, headers and any body bytes. */
  head: string | Buffer
  /** Sent after `head`, `pieceBytes` at a time, one piece every `everyMs`. */
  body?: Buffer
  pieceBytes?: number
  everyMs?: number
  /** Half-close once everything is written (default false). */
  end?: boolean
  /** Rejects if the server has not closed the connection by then. */
  timeoutMs?: number
}

export interface RawConnection {
  socket: Socket
  /** Bytes received so far. */
  received: () => string
  /** Resolves when the server closes the connection. */
  answer: Promise<RawAnswer>
}

export function parseAnswer (text: string, ms: number): RawAnswer {
  const split = text.indexOf('\r\n\r\n')
  const head = split === -1 ? text : text.slice(0, split)
  const [statusLine = '', ...lines] = head.split('\r\n')
  const headers: Record<string, string> = {}
  for (const line of lines) {
    const colon = line.indexOf(':')
    if (colon > 0) headers[line.slice(0, colon).trim().toLowerCase()] = line.slice(colon + 1).trim()
  }
  const length = Number(headers['content-length'] ?? NaN)
  const rest = split === -1 ? '' : text.slice(split + 4)
  return {
    status: Number(/^HTTP\/1\.1 (\d{3})/.exec(statusLine)?.[1] ?? 0),
    headers,
    body: Number.isInteger(length) ? rest.slice(0, length) : rest,
    text,
    ms
  }
}

export function openRaw (request: RawRequest): RawConnection {
  const { port, head, body, pieceBytes = 1, everyMs = 100, end = false, timeoutMs = 15_000 } = request
  const started = Date.now()
  const socket = connect({ port, host: '127.0.0.1' })
  const chunks: Buffer[] = []
  let pacer: NodeJS.Timeout | undefined
  const answer = new Promise<RawAnswer>((resolve, reject) => {
    const timer = setTimeout(() => {
      socket.destroy()
      reject(new Error(`the server did not close the connection within ${timeoutMs} ms; received: ${Buffer.concat(chunks).toString('latin1').slice(0, 300)}`))
    }, timeoutMs)
    socket.on('data', (chunk: Buffer) => chunks.push(chunk))
    // A reset after the answer (the server closing with bytes of ours unread) still leaves the answer.
    socket.on('error', () => {})
    socket.on('close', () => {
      clearTimeout(timer)
      clearInterval(pacer)
      resolve(parseAnswer(Buffer.concat(chunks).toString('latin1'), Date.now() - started))
    })
  })
  socket.write(head)
  let offset = 0
  const finish = (): void => { if (end && !socket.destroyed) socket.end() }
  if (body === undefined || body.length === 0) {
    finish()
  } else {
    pacer = setInterval(() => {
      if (socket.destroyed || !socket.writable) {
        clearInterval(pacer)
        return
      }
      socket.write(body.subarray(offset, offset + pieceBytes))
      offset += pieceBytes
      if (offset >= body.length) {
        clearInterval(pacer)
        finish()
      }
    }, everyMs)
  }
  return { socket, received: () => Buffer.concat(chunks).toString('latin1'), answer }
}

/**
 * One request sent at once and half-closed; resolves with what the server answered before closing.
 * Node takes the half-close as the client leaving, so this suits requests refused on arrival (or
 * answered at once); others send `Connection: close` with `openRaw` instead.
 */
export async function rawRequest (port: number, head: string | Buffer, timeoutMs = 5000): Promise<RawAnswer> {
  return await openRaw({ port, head, end: true, timeoutMs }).answer
}

import { once } from 'node:events'
import { readdir, readFile, stat } from 'node:fs/promises'
import { createServer, type AddressInfo, type Socket } from 'node:net'
import { join } from 'node:path'
import { Writable } from 'node:stream'
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest'
import { buildTestApp, type TestApp } from '../../../helpers/app.js'
import { NO_RATE_LIMITS } from '../../../helpers/bad-input.js'

// Password reset mail: written to DATA_DIR/mail without SMTP_URL (the operator reads the link there,
// the log only says where), sent by SMTP otherwise (then neither logged nor written anywhere).

const GENERIC = { success: true, message: 'If that email exists, a password reset link has been sent.' }
const LINK = /^http:\/\/localhost:5173\/reset-password\?token=([\w-]+)$/m

/** Every log line the app writes, as text. */
function logCollector (): { stream: Writable, lines: string[] } {
  const lines: string[] = []
  return { lines, stream: new Writable({ write (chunk: Buffer, _encoding, done) { lines.push(chunk.toString()); done() } }) }
}

/** Headers (lower-case names, unfolded) and the text of a single-part message, decoded as a mail client shows it. */
function parseMail (raw: string): { headers: Record<string, string>, text: string } {
  const split = raw.indexOf('\r\n\r\n')
  const headers: Record<string, string> = {}
  for (const line of raw.slice(0, split).replace(/\r\n[ \t]+/g, ' ').split('\r\n')) {
    const colon = line.indexOf(':')
    headers[line.slice(0, colon).toLowerCase()] = line.slice(colon + 1).trim()
  }
  let body = raw.slice(split + 4)
  if (headers['content-transfer-encoding'] === 'quoted-printable') {
    const bytes = body.replace(/=\r\n/g, '').replace(/=([0-9A-F]{2})/gi, (_, hex: string) => String.fromCharCode(parseInt(hex, 16)))
    body = Buffer.from(bytes, 'latin1').toString('utf8')
  }
  return { headers, text: body.replace(/\r\n/g, '\n') }
}

function tokenOf (text: string): string {
  const match = LINK.exec(text)
  expect(match, text).not.toBeNull()
  return decodeURIComponent(match![1]!)
}

/** A minimal SMTP server on loopback that keeps what it receives, and can refuse it after DATA. */
async function startSmtpSink (): Promise<{ url: string, messages: string[], refuse: boolean, close: () => Promise<void> }> {
  const sockets = new Set<Socket>()
  const sink = { url: '', messages: [] as string[], refuse: false, close: async () => {} }
  const server = createServer((socket) => {
    sockets.add(socket)
    socket.on('close', () => sockets.delete(socket))
    socket.on('error', () => {})
    socket.setEncoding('utf8')
    const reply = (line: string): void => { socket.write(`${line}\r\n`) }
    let buffer = ''
    let inData = false
    reply('220 localhost test SMTP')
    socket.on('data', (chunk: string) => {
      buffer += chunk
      for (;;) {
        if (inData) {
          const end = buffer.indexOf('\r\n.\r\n')
          if (end === -1) return
          sink.messages.push(buffer.slice(0, end))
          buffer = buffer.slice(end + 5)
          inData = false
          reply(sink.refuse ? '554 5.7.1 Message refused' : '250 2.0.0 Queued')
          continue
        }
        const eol = buffer.indexOf('\r\n')
        if (eol === -1) return
        const verb = buffer.slice(0, eol).slice(0, 4).toUpperCase()
        buffer = buffer.slice(eol + 2)
        if (verb === 'DATA') {
          inData = true
          reply('354 End data with <CR><LF>.<CR><LF>')
        } else if (verb === 'QUIT') {
          reply('221 Bye')
          socket.end()
        } else {
          reply(verb === 'EHLO' || verb === 'HELO' ? '250 localhost' : '250 OK')
        }
      }
    })
  })
  server.listen(0, '127.0.0.1')
  await once(server, 'listening')
  sink.url = `smtp://127.0.0.1:${(server.address() as AddressInfo).port}`
  sink.close = async () => {
    for (const socket of sockets) socket.destroy()
    server.close()
    await once(server, 'close')
  }
  return sink
}

describe('password reset mail without SMTP_URL (zero-config)', () => {
  const log = logCollector()
  let t: TestApp

  beforeAll(async () => {
    t = await buildTestApp({ label: 'mail_file', env: NO_RATE_LIMITS, logStream: log.stream })
  })
  afterAll(async () => { await t?.close() })

  const post = async (url: string, payload: object) => await t.app.inject({ method: 'POST', url, payload })

  it('writes the mail to DATA_DIR/mail as an .eml only its owner reads, logs where (not the link), and the link resets the password', async () => {
    expect(t.app.mailer.kind).toBe('file')
    expect((await post('/auth/signup', { email: 'gina@example.com', password: 'old-password' })).statusCode).toBe(200)
    const send = vi.spyOn(t.app.mailer, 'send')
    expect((await post('/auth/forgot-password', { email: 'gina@example.com' })).json()).toEqual(GENERIC)
    expect(send).toHaveBeenCalledTimes(1)
    await send.mock.results[0]!.value
    send.mockRestore()

    const dir = join(t.dataDir, 'mail')
    const files = await readdir(dir)
    expect(files).toEqual([expect.stringMatching(/^\d{4}-\d\d-\d\dT\d\d-\d\d-\d\d-\d{3}Z-[0-9a-f]{8}\.eml$/)])
    const file = join(dir, files[0]!)
    expect((await stat(dir)).mode & 0o777).toBe(0o700)
    expect((await stat(file)).mode & 0o777).toBe(0o600)

    const mail = parseMail(await readFile(file, 'utf8'))
    expect(mail.headers).toMatchObject({
      from: 'DocuMind Voice <no-reply@localhost>',
      to: 'gina@example.com',
      subject: 'Reset your DocuMind Voice password',
      'mime-version': '1.0',
      'content-type': 'text/plain; charset=utf-8',
      'message-id': expect.stringMatching(/^<.+@.+>$/),
      date: expect.any(String)
    })
    const token = tokenOf(mail.text)

    // One clearly labelled line names the file; no line holds the token.
    const entries = log.lines.map((line) => JSON.parse(line) as Record<string, unknown>)
    expect(entries.filter((e) => e.mailFile !== undefined)).toEqual([expect.objectContaining({
      level: 40, mailFile: file, to: 'gina@example.com', msg: `SMTP_URL is not set: mail not sent, written to ${file}`
    })])
    expect(log.lines.join('')).not.toContain(token.slice(0, 16))

    expect((await post('/auth/reset-password', { token, password: 'new-password' })).json()).toEqual({ success: true, message: 'Password reset successfully' })
    expect((await post('/auth/login', { email: 'gina@example.com', password: 'new-password' })).statusCode).toBe(200)
    expect((await post('/auth/login', { email: 'gina@example.com', password: 'old-password' })).statusCode).toBe(401)
  })

  it('writes nothing for an unknown email', async () => {
    const before = await readdir(join(t.dataDir, 'mail'))
    expect((await post('/auth/forgot-password', { email: 'nobody@example.com' })).json()).toEqual(GENERIC)
    expect(await readdir(join(t.dataDir, 'mail'))).toEqual(before)
  })
})

describe('password reset mail with SMTP_URL', () => {
  const log = logCollector()
  let smtp: Awaited<ReturnType<typeof startSmtpSink>>
  let t: TestApp

  beforeAll(async () => {
    smtp = await startSmtpSink()
    t = await buildTestApp({ label: 'mail_smtp', env: { ...NO_RATE_LIMITS, SMTP_URL: smtp.url }, logStream: log.stream })
  })
  afterAll(async () => {
    await t?.close()
    await smtp?.close()
  })

  const post = async (url: string, payload: object) => await t.app.inject({ method: 'POST', url, payload })

  it('sends the link by SMTP only: it is neither logged nor written, even when the server refuses the mail', async () => {
    expect(t.app.mailer.kind).toBe('smtp')
    expect((await post('/auth/signup', { email: 'hank@example.com', password: 'old-password' })).statusCode).toBe(200)
    const send = vi.spyOn(t.app.mailer, 'send')
    expect((await post('/auth/forgot-password', { email: 'hank@example.com' })).json()).toEqual(GENERIC)
    await send.mock.results[0]!.value
    expect(smtp.messages).toHaveLength(1)
    const delivered = parseMail(smtp.messages[0]!)
    expect(delivered.headers).toMatchObject({ to: 'hank@example.com', subject: 'Reset your DocuMind Voice password' })
    const token = tokenOf(delivered.text)

    // A refused delivery is logged as an error, without the mail.
    smtp.refuse = true
    expect((await post('/auth/forgot-password', { email: 'hank@example.com' })).json()).toEqual(GENERIC)
    await expect(send.mock.results[1]!.value).rejects.toThrow()
    send.mockRestore()
    expect(smtp.messages).toHaveLength(2)
    const refusedToken = tokenOf(parseMail(smtp.messages[1]!).text)
    expect(log.lines.some((line) => line.includes('password reset mail not sent'))).toBe(true)

    const logged = log.lines.join('')
    for (const secret of [token, refusedToken]) expect(logged).not.toContain(secret.slice(0, 16))
    expect(log.lines.some((line) => line.includes('mailFile'))).toBe(false)
    expect(await readdir(t.dataDir, { recursive: true })).toEqual([])

    // The mailed link is the real one.
    expect((await post('/auth/reset-password', { token, password: 'new-password' })).json()).toEqual({ success: true, message: 'Password reset successfully' })
    expect((await post('/auth/login', { email: 'hank@example.com', password: 'new-password' })).statusCode).toBe(200)
  })
})

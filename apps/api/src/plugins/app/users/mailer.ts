import { randomBytes } from 'node:crypto'
import { mkdir, writeFile } from 'node:fs/promises'
import { join } from 'node:path'
import fp from 'fastify-plugin'
import nodemailer from 'nodemailer'

declare module 'fastify' {
  interface FastifyInstance {
    mailer: Mailer
  }
}

export interface Mail {
  to: string
  subject: string
  text: string
}

export interface Mailer {
  readonly kind: 'smtp' | 'file'
  send: (mail: Mail) => Promise<void>
}

export interface MailerOptions {
  smtpUrl: string | undefined
  from: string
  /** Where mails are written when there is no SMTP (DATA_DIR/mail). */
  mailDir: string
}

/** `2026-01-31T12-00-00-000Z-1a2b3c4d.eml`: sorts by time, never collides across workers. */
function mailFileName (): string {
  return `${new Date().toISOString().replace(/[:.]/g, '-')}-${randomBytes(4).toString('hex')}.eml`
}

/**
 * SMTP through nodemailer when SMTP_URL is set. Otherwise (zero-config) each mail is written to
 * DATA_DIR/mail as a standard .eml file readable by its owner only, and a log line says where: the
 * operator can read a password reset link, and the log (which may be shipped elsewhere) never holds it.
 */
export default fp<MailerOptions>(async (fastify, opts) => {
  let mailer: Mailer
  if (opts.smtpUrl !== undefined) {
    const transport = nodemailer.createTransport(opts.smtpUrl)
    mailer = {
      kind: 'smtp',
      async send (mail) {
        await transport.sendMail({ from: opts.from, ...mail })
      }
    }
    fastify.addHook('onClose', async () => transport.close())
  } else {
    // nodemailer composes the message (headers, encoding) and hands it back instead of sending it.
    const transport = nodemailer.createTransport({ streamTransport: true, buffer: true })
    mailer = {
      kind: 'file',
      async send (mail) {
        const { message } = await transport.sendMail({ from: opts.from, ...mail })
        if (!Buffer.isBuffer(message)) throw new Error('nodemailer returned a stream for a buffered message')
        await mkdir(opts.mailDir, { recursive: true, mode: 0o700 })
        const file = join(opts.mailDir, mailFileName())
        await writeFile(file, message, { mode: 0o600, flag: 'wx' })
        fastify.log.warn({ mailFile: file, to: mail.to, subject: mail.subject }, `SMTP_URL is not set: mail not sent, written to ${file}`)
      }
    }
  }
  fastify.decorate('mailer', mailer)
}, { name: 'mailer' })

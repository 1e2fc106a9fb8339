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
  readonly kind: 'smtp' | 'log'
  send: (mail: Mail) => Promise<void>
}

export interface MailerOptions {
  smtpUrl: string | undefined
  from: string
}

/** SMTP through nodemailer when SMTP_URL is set; otherwise mails are written to the log (zero-config). */
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
    mailer = {
      kind: 'log',
      async send (mail) {
        fastify.log.info({ mail }, 'SMTP_URL is not set: mail logged instead of sent')
      }
    }
  }
  fastify.decorate('mailer', mailer)
}, { name: 'mailer' })

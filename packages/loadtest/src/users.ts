import { makeReportPdf, mapLimit, multipartFile } from '@documind/harness'
import type { AddressAllocator } from './addresses.js'
import { type ApiClient, describeAnswer } from './api.js'
import { LIMITS } from './limits.js'

/** Key used for budgets when requests carry no X-Forwarded-For (every request shares our address). */
export const SELF = 'self'

export interface VirtualUser {
  index: number
  email: string
  password: string
  /** X-Forwarded-For address this user always uses; undefined = the load generator's own address. */
  address: string | undefined
  token?: string
  /** Documents this run uploaded for the user. */
  docs: number
  /** Daily query quota consumed by this run (POST /ask and GET /limits both count). */
  queries: number
  source: 'setup' | 'signups-scenario' | 'premade'
  label: string
}

export interface RateRule { max: number, windowMs: number }

/**
 * Tracks what this run has already spent of every per-address bucket, so later scenarios plan
 * only requests that must succeed. It knows nothing of other clients or earlier runs; with
 * per-user addresses that does not matter, with a single address it is stated in the report.
 */
export class AddressBudget {
  private readonly hits = new Map<string, number[]>()

  private key (address: string | undefined, bucket: string): string {
    return `${address ?? SELF}|${bucket}`
  }

  used (address: string | undefined, bucket: string, windowMs: number, now = Date.now()): number {
    const list = this.hits.get(this.key(address, bucket))
    if (list === undefined) return 0
    let n = 0
    for (const t of list) if (now - t < windowMs) n++
    return n
  }

  /** True if one more request fits in `rule` with `margin` spare requests and `slackMs` of clock slack. */
  canUse (address: string | undefined, bucket: string, rule: RateRule, margin = 0, slackMs = 0, now = Date.now()): boolean {
    return this.used(address, bucket, rule.windowMs + slackMs, now) < rule.max - margin
  }

  use (address: string | undefined, bucket: string, now = Date.now()): void {
    const k = this.key(address, bucket)
    const list = this.hits.get(k)
    if (list === undefined) this.hits.set(k, [now])
    else list.push(now)
  }
}

export class SetupError extends Error {}

/** Raised when requests from fresh forwarded addresses are rate-limited together. */
export class ProxyTrustError extends SetupError {}

export interface PoolOptions {
  api: ApiClient
  addresses: AddressAllocator
  /** Per-user X-Forwarded-For addresses are sent and honoured. */
  perUser: boolean
  runId: string
  budget: AddressBudget
  log: (line: string) => void
}

export const PASSWORD = 'LoadTest-Passw0rd'

export class UserPool {
  readonly users: VirtualUser[] = []
  private emailCounter = 0
  private readonly smallPdf: Promise<Buffer>
  readonly notes: string[] = []

  constructor (private readonly opts: PoolOptions) {
    this.smallPdf = makeReportPdf(opts.runId.length)
    // Avoid an unhandled rejection if no upload ever awaits it.
    this.smallPdf.catch(() => {})
  }

  get perUser (): boolean {
    return this.opts.perUser
  }

  newEmail (label: string): string {
    return `lt-${this.opts.runId}-${label}-${++this.emailCounter}@example.com`
  }

  newAddress (): string | undefined {
    return this.opts.perUser ? this.opts.addresses.next() : undefined
  }

  adopt (user: Omit<VirtualUser, 'index'>): VirtualUser {
    const u = { ...user, index: this.users.length }
    this.users.push(u)
    return u
  }

  /**
   * Signs up `n` users, each from its own fresh address (per-user mode). With a single address
   * only what the signup limit still allows is created; the result may be shorter than `n`.
   */
  async create (n: number, label: string): Promise<VirtualUser[]> {
    const { api, budget } = this.opts
    if (!this.opts.perUser) {
      const made: VirtualUser[] = []
      for (let i = 0; i < n; i++) {
        if (!budget.canUse(undefined, 'signup', LIMITS.signup)) break
        const email = this.newEmail(label)
        budget.use(undefined, 'signup')
        const a = await api.call('POST', '/auth/signup', { json: { email, password: PASSWORD } })
        if (a.status === 429) {
          this.notes.push(`setup: signup refused with 429 after ${made.length} users (this address used its ${LIMITS.signup.max} signups per hour)`)
          break
        }
        if (a.status !== 200 || typeof a.json?.token !== 'string') throw new SetupError(`signup for setup failed: ${describeAnswer(a)}`)
        made.push(this.adopt({ email, password: PASSWORD, address: undefined, token: a.json.token, docs: 0, queries: 0, source: 'setup', label }))
      }
      return made
    }
    const specs = Array.from({ length: n }, () => ({ email: this.newEmail(label), address: this.opts.addresses.next() }))
    const answers = await mapLimit(specs, 8, async (spec) => {
      budget.use(spec.address, 'signup')
      return { spec, answer: await api.call('POST', '/auth/signup', { json: { email: spec.email, password: PASSWORD }, address: spec.address }) }
    })
    const limited = answers.filter((a) => a.answer.status === 429).length
    if (limited > 0) {
      throw new ProxyTrustError(
        `${limited} of ${n} signups from never-used X-Forwarded-For addresses were refused with 429: the target ` +
        'does not take the client address from X-Forwarded-For (its TRUST_PROXY does not list the address ' +
        'the load tester connects from), so every request shares one rate-limit bucket'
      )
    }
    const created: VirtualUser[] = []
    for (const { spec, answer } of answers) {
      if (answer.status !== 200 || typeof answer.json?.token !== 'string') {
        throw new SetupError(`signup for setup failed (${spec.email}): ${describeAnswer(answer)}`)
      }
      created.push(this.adopt({ email: spec.email, password: PASSWORD, address: spec.address, token: answer.json.token, docs: 0, queries: 0, source: 'setup', label }))
    }
    return created
  }

  /** Logs in users that have no token yet (premade credentials). */
  async ensureTokens (users: VirtualUser[]): Promise<VirtualUser[]> {
    const ready: VirtualUser[] = []
    for (const u of users) {
      if (u.token !== undefined) {
        ready.push(u)
        continue
      }
      if (!this.opts.budget.canUse(u.address, 'login', LIMITS.login, 1)) continue
      this.opts.budget.use(u.address, 'login')
      const a = await this.opts.api.call('POST', '/auth/login', { json: { email: u.email, password: u.password }, address: u.address })
      if (a.status === 200 && typeof a.json?.token === 'string') {
        u.token = a.json.token
        ready.push(u)
      } else {
        this.notes.push(`setup: login for ${u.email} failed: ${describeAnswer(a)}`)
      }
    }
    return ready
  }

  /** Uploads a small text PDF for each user that has no document yet (needed before /ask). */
  async ensureDocument (users: VirtualUser[]): Promise<void> {
    const pdf = await this.smallPdf
    const todo = users.filter((u) => u.docs === 0 && u.token !== undefined)
    await mapLimit(todo, 8, async (u) => {
      if (!this.opts.budget.canUse(u.address, '/upload', LIMITS.endpoint, 5)) {
        throw new SetupError(`setup: no /upload budget left for ${u.address ?? 'this address'}`)
      }
      const part = multipartFile('file', `lt-${this.opts.runId}-u${u.index}-base.pdf`, pdf)
      let a
      for (let attempt = 1; ; attempt++) {
        this.opts.budget.use(u.address, '/upload')
        a = await this.opts.api.call('POST', '/upload', { body: part.body, contentType: part.contentType, token: u.token!, address: u.address })
        // Set-up is not measured: wait out the server's "busy" back-pressure.
        const busy = a.json?.success === false && typeof a.json.message === 'string' && /\bbusy\b/i.test(a.json.message)
        if (!busy || attempt >= 10) break
        await new Promise((resolve) => setTimeout(resolve, 1000))
      }
      if (a.status !== 200 || a.json?.success !== true) {
        throw new SetupError(`setup: upload for ${u.email} failed: ${describeAnswer(a)}`)
      }
      u.docs++
    })
  }
}

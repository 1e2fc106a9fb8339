import { performance } from 'node:perf_hooks'
import { LIMITS } from '../limits.js'
import { type Check, check } from '../model.js'
import { buildScenarioResult } from '../results.js'
import type { Expectation, Op } from '../runner.js'
import { formatBytes } from '../units.js'
import type { VirtualUser } from '../users.js'
import { countBy, errorChecks, expectationCheck, isBusy, LOAD_SHED, loadShedCheck } from './checks.js'
import { emptyOutcome, ENDPOINT_MARGIN, measured, meta, modeNote, type ScenarioDefinition, singleAddressUsers } from './context.js'
import { asObj, expectSuccess, msg, orLimited, shuffle, uploadOp } from './ops.js'

const MAX_FILE_BYTES = 10 * 1024 * 1024

export const upload: ScenarioDefinition = {
  name: 'upload',
  title: 'Concurrent PDF uploads',
  description: 'POST /upload (multipart field "file") of generated PDFs, all concurrent, spread over users: each user sends 6, so exactly 5 are stored and one is refused with 403 (5 documents per user).',
  run: async (ctx) => {
    const t0 = performance.now()
    const size = ctx.config.upload.sizeBytes
    const pdf = await ctx.uploadPdf()
    const tooLarge = pdf.length > MAX_FILE_BYTES
    const notes = [modeNote(ctx), `PDF size ${formatBytes(pdf.length)} (requested ${formatBytes(size)})`]
    if (tooLarge) notes.push('the file is larger than the 10 MiB per-file limit: every upload must be refused with 413')
    const maxDocs = LIMITS.documentsPerUser
    let users: VirtualUser[]
    if (ctx.perUser) {
      users = await ctx.pool.create(ctx.config.upload.users, 'upload')
    } else {
      users = await singleAddressUsers(ctx)
    }
    const expectUpload: Expectation = tooLarge
      ? (status, json) => status === 413 ? true : `HTTP ${status} (expected 413 for a file over 10 MiB)${msg(json)}`
      : (status, json, text) => {
          if (status === 403) return asObj(json)?.limit_reached === true ? true : `403 without limit_reached${msg(json)}`
          const verdict = expectSuccess()(status, json, text)
          return verdict !== true && isBusy(status, json) ? `${LOAD_SHED}${msg(json).slice(2)}` : verdict
        }
    const ops: Op[] = []
    let fileNo = 0
    for (const u of users) {
      const attempts = Math.max(0, maxDocs - u.docs) + 1
      for (let j = 0; j < attempts; j++) {
        if (!ctx.budget.canUse(u.address, '/upload', LIMITS.endpoint, ENDPOINT_MARGIN)) break
        ctx.budget.use(u.address, '/upload')
        ops.push(uploadOp(u, `lt-${ctx.runId}-u${u.index}-doc${++fileNo}.pdf`, pdf, ctx.perUser ? expectUpload : orLimited(expectUpload), (status, json) => {
          if (status === 200 && asObj(json)?.success === true) u.docs++
        }))
      }
    }
    const setupMs = performance.now() - t0
    const connections = Math.max(1, Math.min(ctx.config.connections, ops.length))
    const outcome = ops.length === 0 ? emptyOutcome() : await measured(ctx, 'upload', { ops: shuffle(ops), connections })
    const checks: Check[] = []
    if (ops.length === 0) {
      checks.push(check('upload: uploads accepted', 'warn', 'skipped: no signed-in user available in single-address mode (pass --login-email/--login-password)', 'expectation', 'upload'))
    } else {
      checks.push(expectationCheck('upload', tooLarge ? 'every upload refused with 413' : 'every upload stored (200, success:true) or refused at the document limit (403)', outcome.samples))
    }
    if (!tooLarge && ctx.perUser && ops.length > 0) {
      const byUser = countBy(outcome.samples, (s) => s.user)
      const offenders: string[] = []
      let skipped = 0
      for (const [user, list] of byUser) {
        const stored = list.filter((s) => s.status === 200 && s.success === true).length
        const refused = list.filter((s) => s.status === 403).length
        if (stored > maxDocs) {
          offenders.push(`user ${user}: ${stored} documents stored (limit ${maxDocs})`)
        } else if (stored + refused < list.length) {
          // Some uploads failed for another reason (busy, 5xx...): the limit was not reached.
          skipped++
        } else if (stored !== maxDocs || refused !== list.length - maxDocs) {
          offenders.push(`user ${user}: ${stored} stored, ${refused} x 403 of ${list.length}`)
        }
      }
      const verified = byUser.size - skipped
      checks.push(check(`upload: document limit exact (${maxDocs} per user, 6th -> 403, concurrent uploads)`,
        offenders.length > 0 ? 'fail' : verified > 0 ? 'pass' : 'warn',
        (offenders.length === 0 ? `${verified} users: each stored exactly ${maxDocs} and got 403 for the 6th` : offenders.slice(0, 4).join('; ')) +
          (skipped > 0 ? `; ${skipped} users not verifiable (some uploads failed for another reason, see above)` : ''),
        'rate-limit', 'upload'))
    }
    checks.push(...loadShedCheck('upload', outcome.samples))
    checks.push(...errorChecks('upload', outcome.samples))
    return buildScenarioResult({
      ...meta(upload),
      setupMs,
      checks,
      notes,
      settings: { users: users.length, uploads: ops.length, connections, sizeBytes: pdf.length }
    }, outcome)
  }
}

import { type Check, check, type Sample } from '../model.js'
import { asObj } from './ops.js'

// ---------------------------------------------------------------- common checks

export function errorChecks (scenario: string, samples: readonly Sample[]): Check[] {
  const s5xx = samples.filter((s) => s.status >= 500)
  const noAnswer = samples.filter((s) => s.status === 0)
  const codes = [...new Set(s5xx.map((s) => s.status))].join(', ')
  const reasons = [...new Set(noAnswer.map((s) => s.error ?? 'no response'))].slice(0, 3).join('; ')
  return [
    check(`${scenario}: no 5xx answers`, s5xx.length === 0,
      s5xx.length === 0 ? `0 of ${samples.length}` : `${s5xx.length} of ${samples.length} answered ${codes} (${s5xx[0]!.op})`, 'errors', scenario),
    check(`${scenario}: no connection errors or timeouts`, noAnswer.length === 0,
      noAnswer.length === 0 ? `every one of ${samples.length} requests was answered` : `${noAnswer.length} requests got no answer (${reasons})`, 'errors', scenario)
  ]
}

/** Reason prefix of an answer that refused work because the server is at capacity (load shedding). */
export const LOAD_SHED = 'load shed: '

/** "The server is busy ... try again" with success:false: the API's deliberate back-pressure. */
export function isBusy (status: number, json: unknown): boolean {
  const m = asObj(json)?.message
  return (status === 200 || status === 503) && asObj(json)?.success === false && typeof m === 'string' && /\bbusy\b/i.test(m)
}

/** "3 x 200, 27 x 429" */
export function statusBreakdown (samples: readonly Sample[]): string {
  const codes = new Map<number, number>()
  for (const s of samples) codes.set(s.status, (codes.get(s.status) ?? 0) + 1)
  if (codes.size === 0) return 'no requests'
  return [...codes].sort((a, b) => a[0] - b[0]).map(([c, n]) => `${n} x ${c === 0 ? 'no answer' : c}`).join(', ')
}

/**
 * A check that every answer of some group matched its expectation. Requests without an answer are
 * checked apart (errorChecks), and so is load shedding (loadShedCheck).
 */
export function expectationCheck (scenario: string, name: string, samples: readonly Sample[]): Check {
  const bad = samples.filter((s) => !s.ok && s.status !== 0 && s.reason?.startsWith(LOAD_SHED) !== true)
  const reasons = new Map<string, number>()
  for (const s of bad) reasons.set(s.reason ?? `HTTP ${s.status}`, (reasons.get(s.reason ?? `HTTP ${s.status}`) ?? 0) + 1)
  const top = [...reasons].sort((a, b) => b[1] - a[1]).slice(0, 3).map(([r, n]) => `${n} x ${r}`).join('; ')
  return check(`${scenario}: ${name}`, bad.length === 0,
    bad.length === 0 ? statusBreakdown(samples) : `${bad.length} of ${samples.length} unexpected: ${top}`,
    'expectation', scenario)
}

/** A 5xx or no answer: the request may or may not have been counted by a limit. */
export const unverifiable = (s: Sample): boolean => s.status === 0 || s.status >= 500

/** Answers refused as "busy": failures for the user, but deliberate back-pressure, so a warning. */
export function loadShedCheck (scenario: string, samples: readonly Sample[]): Check[] {
  const shed = samples.filter((s) => s.reason?.startsWith(LOAD_SHED) === true)
  if (shed.length === 0) return []
  return [check(`${scenario}: no load shedding`, 'warn',
    `${shed.length} of ${samples.length} requests were refused because the server was busy ("${shed[0]!.reason!.slice(LOAD_SHED.length)}"): ` +
    'its capacity is below this concurrency (they count as failed in the success rate)', 'expectation', scenario)]
}

export const countBy = <K>(items: readonly Sample[], key: (s: Sample) => K | undefined): Map<K, Sample[]> => {
  const m = new Map<K, Sample[]>()
  for (const s of items) {
    const k = key(s)
    if (k === undefined) continue
    const list = m.get(k)
    if (list === undefined) m.set(k, [s])
    else list.push(s)
  }
  return m
}

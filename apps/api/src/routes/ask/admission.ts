import type { FastifyInstance } from 'fastify'
import { isLongerThan } from '../../lib/answer-text.js'
import type { DocumentsSnapshot } from '../../plugins/app/documents-repository.js'
import type { QuotaState } from '../../plugins/app/query-quota.js'

export type Admission =
  | { outcome: 'quota-exceeded', quota: QuotaState }
  | { outcome: 'no-documents' }
  | { outcome: 'admitted', quota: QuotaState, snapshot: DocumentsSnapshot }

/**
 * The gate in front of answering (/ask, /voice-query): the daily query quota and at least one ready
 * document. Both are read at once (one round trip less than in turn), and the snapshot goes on to
 * the answering pipeline, which would read it again otherwise. A question that is not answered
 * gives its quota back.
 */
export async function admitQuestion (fastify: FastifyInstance, userId: string): Promise<Admission> {
  const [quota, snapshot] = await Promise.allSettled([fastify.queryQuota.consume(userId), fastify.documents.snapshot(userId)])
  if (quota.status === 'rejected') throw quota.reason
  if (!quota.value.allowed) return { outcome: 'quota-exceeded', quota: quota.value }
  if (snapshot.status === 'rejected' || snapshot.value.refs.length === 0) {
    await fastify.queryQuota.refund(userId)
    if (snapshot.status === 'rejected') throw snapshot.reason
    return { outcome: 'no-documents' }
  }
  return { outcome: 'admitted', quota: quota.value, snapshot: snapshot.value }
}

/**
 * The message refusing a question over ASK_MAX_QUESTION_CHARS (400), or null when it fits. Checked
 * before admitQuestion, so a refused question costs no quota and reaches neither retrieval nor the LLM.
 */
export function questionTooLongMessage (question: string, maxChars: number, what = 'Question'): string | null {
  return isLongerThan(question, maxChars) ? `${what} is too long: at most ${maxChars} characters. Please ask a shorter question.` : null
}

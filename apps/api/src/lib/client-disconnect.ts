import type { FastifyReply } from 'fastify'

/**
 * Runs `work` with a signal that aborts when the client disconnects before the response is complete,
 * so an abandoned request stops its upstream calls (Groq, PDF extraction) and stores nothing. The
 * listener is removed when `work` settles.
 */
export async function whileClientConnected<T> (reply: FastifyReply, work: (signal: AbortSignal) => Promise<T>): Promise<T> {
  const controller = new AbortController()
  const onClose = (): void => { if (!reply.raw.writableFinished) controller.abort() }
  reply.raw.once('close', onClose)
  try {
    return await work(controller.signal)
  } finally {
    reply.raw.off('close', onClose)
  }
}

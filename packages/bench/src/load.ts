// Parent side of the load runner: one child process per autocannon run.
import { forkScript, stopChild } from './children.js'
import type { LoadResult, LoadSpec, RunnerMessage, RunnerReply } from './load-types.js'

export interface RunningLoad {
  /** Ends the run early; the result then covers the time until the stop. */
  stop: () => void
  /** Resolves once the load has actually started (its connections are opening). */
  started: Promise<void>
  result: Promise<LoadResult>
}

/** Starts an autocannon run in its own process. */
export function startLoad (spec: LoadSpec): RunningLoad {
  const child = forkScript('load-runner')
  let onStarted: () => void = () => {}
  const started = new Promise<void>((resolve) => { onStarted = resolve })
  const result = new Promise<LoadResult>((resolve, reject) => {
    let settled = false
    child.on('message', (message: RunnerReply) => {
      if (message.type === 'started') {
        onStarted()
        return
      }
      settled = true
      onStarted()
      if (message.type === 'result') resolve(message.result)
      else reject(new Error(`load runner: ${message.message}`))
    })
    child.once('exit', (code, signal) => {
      onStarted()
      if (!settled) reject(new Error(`load runner exited (${signal ?? code}) without a result`))
    })
    child.once('error', reject)
  })
  child.send({ type: 'run', spec } satisfies RunnerMessage)
  // Never leave the runner behind once its result is in (or the run failed).
  result.then(() => stopChild(child, 2000), () => stopChild(child, 2000)).catch(() => {})
  return {
    stop: () => { if (child.connected) child.send({ type: 'stop' } satisfies RunnerMessage) },
    started,
    result
  }
}

export async function runLoad (spec: LoadSpec): Promise<LoadResult> {
  return await startLoad(spec).result
}

// Every process the bench starts is registered here, so teardown (normal end, error, Ctrl-C) can end
// exactly those processes, by their id, and nothing else.
import { fork, spawn, type ChildProcess, type ForkOptions, type SpawnOptions } from 'node:child_process'
import { once } from 'node:events'
import { fileURLToPath } from 'node:url'

const live = new Set<ChildProcess>()

function track (child: ChildProcess): ChildProcess {
  live.add(child)
  child.once('exit', () => live.delete(child))
  child.once('error', () => live.delete(child))
  return child
}

/** Forks one of this package's compiled scripts (dist/<name>.js) with an IPC channel. */
export function forkScript (name: string, args: string[] = [], options: ForkOptions = {}): ChildProcess {
  const file = fileURLToPath(new URL(`./${name}.js`, import.meta.url))
  return track(fork(file, args, { stdio: ['ignore', 'inherit', 'inherit', 'ipc'], ...options }))
}

export function spawnTracked (command: string, args: string[], options: SpawnOptions): ChildProcess {
  return track(spawn(command, args, options))
}

export function isRunning (child: ChildProcess): boolean {
  return child.exitCode === null && child.signalCode === null
}

/** SIGTERM, then SIGKILL after `graceMs`; resolves once the process has exited. */
export async function stopChild (child: ChildProcess, graceMs = 5000, signal: NodeJS.Signals = 'SIGTERM'): Promise<void> {
  if (!isRunning(child) || child.pid === undefined) return
  const exited = once(child, 'exit').catch(() => {})
  child.kill(signal)
  const timer = setTimeout(() => { if (isRunning(child)) child.kill('SIGKILL') }, graceMs)
  await exited
  clearTimeout(timer)
}

/** Stops every still-running child this process started (teardown after an error or a signal). */
export async function stopAllChildren (graceMs = 5000): Promise<void> {
  await Promise.all([...live].map(async (child) => await stopChild(child, graceMs)))
}

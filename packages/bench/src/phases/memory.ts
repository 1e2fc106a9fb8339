// Worker and launcher memory.
import { rssMb, type Stack, workerProcesses } from '../stack.js'
import { round } from '../stats.js'
import type { WorkerMemory } from '../types.js'
import { sleep } from './measure.js'

export async function workerMemory (stack: Stack): Promise<WorkerMemory[]> {
  const workers = await workerProcesses(stack.pm2Home)
  return await Promise.all(workers.map(async (w) => ({ pm_id: w.pmId, pid: w.pid, rss_mb: round(await rssMb(w.pid), 1) })))
}

/**
 * Polls the workers' RSS (every 500 ms, no request sent) until every worker is below 90 % of its
 * boot RSS and steady (within 1 MB) for 2 s, or until `deadline` (performance.now() time).
 */
export async function settledWorkerMemory (boot: readonly WorkerMemory[], deadline: number): Promise<{ workers: WorkerMemory[], settled: boolean }> {
  const bootRss = new Map(boot.map((w) => [w.pid, w.rss_mb]))
  // Only /proc is read here (no `pm2 jlist`, a whole Node process each time): the bcrypt ceiling may be running.
  const read = async (): Promise<WorkerMemory[]> => await Promise.all(boot.map(async (w) => ({ ...w, rss_mb: round(await rssMb(w.pid), 1) })))
  let last = await read()
  let steadySince = performance.now()
  while (true) {
    const dropped = last.every((w) => w.rss_mb < 0.9 * (bootRss.get(w.pid) ?? Number.POSITIVE_INFINITY))
    if (dropped && performance.now() - steadySince >= 2000) return { workers: last, settled: true }
    if (performance.now() >= deadline) return { workers: last, settled: false }
    await sleep(500)
    const next = await read()
    const steady = next.length === last.length && next.every((w, i) => Math.abs(w.rss_mb - last[i]!.rss_mb) <= 1)
    if (!steady) steadySince = performance.now()
    last = next
  }
}

export async function launcherRssMb (stack: Stack): Promise<number> {
  return round(await rssMb(stack.launcherPid), 1)
}

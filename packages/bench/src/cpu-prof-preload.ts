// Preloaded into the API workers by `--cpu-prof DIR` (NODE_OPTIONS=--import=<this file>): Node 20
// refuses --cpu-prof in NODE_OPTIONS, and PM2 gives its cluster workers the execArgv of the app's
// node_args (empty in pm2.config.js), so the V8 profiler is started here through the inspector.
// Active only in a PM2 worker's main thread (PM2 passes pm2_env to its workers); the profile is written to
// BENCH_CPU_PROF_DIR as CPU.<date>.<time>.<pid>.0.001.cpuprofile (the --cpu-prof naming) when the
// worker is told to stop (SIGINT/SIGTERM) or exits.
import { mkdirSync, writeFileSync } from 'node:fs'
import { Session } from 'node:inspector'
import { join } from 'node:path'
import { isMainThread } from 'node:worker_threads'

const dir = process.env.BENCH_CPU_PROF_DIR
if (dir !== undefined && dir !== '' && isMainThread && (process.env.pm2_env !== undefined || process.env.pm_id !== undefined)) {
  const session = new Session()
  session.connect()
  session.post('Profiler.enable')
  session.post('Profiler.setSamplingInterval', { interval: Number(process.env.BENCH_CPU_PROF_INTERVAL_US ?? '1000') })
  session.post('Profiler.start')
  let stopped = false
  const stop = (): void => {
    if (stopped) return
    stopped = true
    session.post('Profiler.stop', (err, result) => {
      if (err !== null) return
      const now = new Date()
      const pad = (n: number): string => String(n).padStart(2, '0')
      const date = `${now.getFullYear()}${pad(now.getMonth() + 1)}${pad(now.getDate())}`
      const time = `${pad(now.getHours())}${pad(now.getMinutes())}${pad(now.getSeconds())}`
      mkdirSync(dir, { recursive: true })
      writeFileSync(join(dir, `CPU.${date}.${time}.${process.pid}.0.001.cpuprofile`), JSON.stringify(result.profile))
      session.disconnect()
    })
  }
  process.once('SIGINT', stop)
  process.once('SIGTERM', stop)
  process.once('exit', stop)
}

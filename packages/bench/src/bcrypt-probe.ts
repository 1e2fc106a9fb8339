// Child process: how many bcrypt.compare per second one process achieves with `parallel` compares
// in flight (the libuv pool size, as in an API worker). Protocol: argv = hash password parallel
// seconds; sends {type:'ready'}, starts on {type:'go'} (so several probes start together), then
// sends {type:'result', completed, elapsed_s, cpu_s}.
import bcrypt from 'bcrypt'

const [hashArg, passwordArg, parallelArg, secondsArg] = process.argv.slice(2)
if (hashArg === undefined || passwordArg === undefined) throw new Error('usage: bcrypt-probe HASH PASSWORD [PARALLEL] [SECONDS]')
const hash: string = hashArg
const PASSWORD: string = passwordArg
const parallel = Math.max(1, Number(parallelArg ?? '4'))
const seconds = Number(secondsArg ?? '3')

async function measure (): Promise<{ completed: number, elapsed_s: number, cpu_s: number }> {
  const cpuStart = process.cpuUsage()
  const start = performance.now()
  const deadline = start + seconds * 1000
  let completed = 0
  let last = start
  // Keeps `parallel` compares in flight until the deadline, then lets the last ones finish: the
  // rate counts every compare started, over the time until the last one completed.
  const lane = async (): Promise<void> => {
    while (performance.now() < deadline) {
      if (!await bcrypt.compare(PASSWORD, hash)) throw new Error('bcrypt.compare returned false')
      completed++
      last = performance.now()
    }
  }
  await Promise.all(Array.from({ length: parallel }, lane))
  const cpu = process.cpuUsage(cpuStart)
  return { completed, elapsed_s: (last - start) / 1000, cpu_s: (cpu.user + cpu.system) / 1e6 }
}

process.on('message', (message: { type: string }) => {
  if (message.type !== 'go') return
  measure().then(
    (result) => { process.send?.({ type: 'result', ...result }); process.disconnect?.() },
    (err: unknown) => { process.send?.({ type: 'error', message: String(err) }); process.exit(1) }
  )
})
process.send?.({ type: 'ready' })

#!/usr/bin/env node
// `npm stop`: asks the launcher started by `npm start` (same DATA_DIR) to stop, and waits for it.
import { readFile } from 'node:fs/promises'
import { join } from 'node:path'
import { loadConfig } from '../config.js'

const STOP_TIMEOUT_MS = 60_000
const pidFile = join(loadConfig().dataDir, 'launcher.pid')

function alive (pid: number): boolean {
  try {
    process.kill(pid, 0)
    return true
  } catch {
    return false
  }
}

let pid: number
try {
  pid = Number((await readFile(pidFile, 'utf8')).trim())
} catch {
  console.log('DocuMind Voice is not running (no launcher.pid in the data directory)')
  process.exit(0)
}
if (!Number.isInteger(pid) || pid <= 0 || !alive(pid)) {
  console.log('DocuMind Voice is not running (stale launcher.pid)')
  process.exit(0)
}
process.kill(pid, 'SIGTERM')
const deadline = Date.now() + STOP_TIMEOUT_MS
while (alive(pid)) {
  if (Date.now() > deadline) {
    console.error(`the launcher (pid ${pid}) did not stop within ${STOP_TIMEOUT_MS / 1000} s`)
    process.exit(1)
  }
  await new Promise((resolve) => setTimeout(resolve, 200))
}
console.log('DocuMind Voice stopped')

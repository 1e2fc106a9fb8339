#!/usr/bin/env node
// `npm stop`: asks the launcher started by `npm start` (same DATA_DIR) to stop, and waits for it.
// The launcher is found through DATA_DIR/launcher.pid, so a stack started with another DATA_DIR is
// stopped with that DATA_DIR; when none is found, the message names the directory it looked in.
import { readFile } from 'node:fs/promises'
import { join } from 'node:path'
import { loadConfig } from '../config.js'

const STOP_TIMEOUT_MS = 60_000
const dataDir = loadConfig().dataDir
const pidFile = join(dataDir, 'launcher.pid')

function notRunning (reason: string): never {
  console.log([
    `DocuMind Voice is not running with the data directory ${dataDir} (${reason}).`,
    'A stack started with another DATA_DIR is stopped with the same one: DATA_DIR=/path/to/it npm stop'
  ].join('\n'))
  process.exit(0)
}

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
  notRunning('no launcher.pid there')
}
if (!Number.isInteger(pid) || pid <= 0 || !alive(pid)) notRunning(`launcher.pid names pid ${String(pid)}, which is not running`)
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

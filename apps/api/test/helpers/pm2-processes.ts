import { execFile } from 'node:child_process'
import { join } from 'node:path'
import { promisify } from 'node:util'
import { REPO_ROOT, type Cluster } from './cluster.js'

const PM2_CLI = join(REPO_ROOT, 'node_modules/pm2/bin/pm2')

export interface Pm2Process {
  pid: number
  status: string
  restarts: number
  /** PM2's id (documind-api:<id>). */
  id: number
}

interface JlistEntry {
  pid: number
  pm_id: number
  pm2_env: { status: string, restart_time: number }
}

/** The cluster's workers as PM2 sees them (`pm2 jlist` against the cluster's own PM2_HOME). */
export async function pm2Processes (cluster: Cluster): Promise<Pm2Process[]> {
  const { stdout } = await promisify(execFile)(process.execPath, [PM2_CLI, 'jlist'], {
    env: { ...process.env, PM2_HOME: join(cluster.dataDir, 'pm2') },
    timeout: 15_000
  })
  // jlist may print notices before the JSON line.
  const json = stdout.split('\n').find((line) => line.startsWith('[{')) ?? '[]'
  return (JSON.parse(json) as JlistEntry[])
    .map((p) => ({ pid: p.pid, status: p.pm2_env.status, restarts: p.pm2_env.restart_time, id: p.pm_id }))
    .sort((a, b) => a.id - b.id)
}

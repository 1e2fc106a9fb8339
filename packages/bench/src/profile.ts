// Summaries of V8 .cpuprofile files (node --cpu-prof): self time per function and per package.
import { readdir, readFile, stat } from 'node:fs/promises'
import { basename, join } from 'node:path'

export interface CpuProfileNode {
  id: number
  callFrame: { functionName: string, url: string, lineNumber: number, columnNumber: number }
  hitCount?: number
  children?: number[]
}

export interface CpuProfile {
  nodes: CpuProfileNode[]
  startTime: number
  endTime: number
  samples?: number[]
  timeDeltas?: number[]
}

export interface ProfileEntry {
  name: string
  self_ms: number
  /** Share of the busy time (everything but `(idle)`). */
  percent: number
}

export interface ProfileSummary {
  total_ms: number
  idle_ms: number
  busy_ms: number
  functions: ProfileEntry[]
  packages: ProfileEntry[]
}

/** Where a function lives: a package under node_modules, node's own code, our code, or a V8 pseudo-frame. */
export function packageOf (url: string, functionName: string): string {
  if (url === '') return functionName.startsWith('(') ? functionName : '(native)'
  const nm = url.lastIndexOf('/node_modules/')
  if (nm >= 0) {
    const rest = url.slice(nm + '/node_modules/'.length).split('/')
    return rest[0]!.startsWith('@') ? `${rest[0]}/${rest[1] ?? ''}` : rest[0]!
  }
  if (url.startsWith('node:')) return `node:${url.slice(5).split('/')[0]}`
  const app = /\/(apps|packages)\/([^/]+)\//.exec(url)
  if (app !== null) return `${app[1]}/${app[2]}`
  return url
}

function frameName (node: CpuProfileNode): string {
  const { functionName, url, lineNumber } = node.callFrame
  if (url === '') return functionName === '' ? '(anonymous)' : functionName
  const short = url.replace(/^file:\/\//, '').replace(/^.*\/node_modules\//, '').replace(/^.*\/(apps|packages)\//, '$1/')
  return `${functionName === '' ? '(anonymous)' : functionName} ${short}:${lineNumber + 1}`
}

/**
 * Self time per function (summed over its call sites) and per package, from the samples and their
 * time deltas (more exact than hitCount x the sampling interval).
 */
export function summarizeProfile (profile: CpuProfile, top = 25): ProfileSummary {
  const byId = new Map(profile.nodes.map((n) => [n.id, n]))
  const selfUs = new Map<number, number>()
  const samples = profile.samples ?? []
  const deltas = profile.timeDeltas ?? []
  if (samples.length > 0) {
    // timeDeltas[i] is the time since the previous sample; the time of sample i is credited to it.
    for (let i = 0; i < samples.length; i++) {
      const delta = Math.max(0, deltas[i + 1] ?? deltas[i] ?? 0)
      selfUs.set(samples[i]!, (selfUs.get(samples[i]!) ?? 0) + delta)
    }
  } else {
    const interval = profile.nodes.reduce((s, n) => s + (n.hitCount ?? 0), 0)
    const perHit = interval > 0 ? (profile.endTime - profile.startTime) / interval : 0
    for (const n of profile.nodes) selfUs.set(n.id, (n.hitCount ?? 0) * perHit)
  }
  const functions = new Map<string, number>()
  const packages = new Map<string, number>()
  let total = 0
  let idle = 0
  for (const [id, us] of selfUs) {
    const node = byId.get(id)
    if (node === undefined) continue
    total += us
    if (node.callFrame.functionName === '(idle)' && node.callFrame.url === '') {
      idle += us
      continue
    }
    const fn = frameName(node)
    functions.set(fn, (functions.get(fn) ?? 0) + us)
    const pkg = packageOf(node.callFrame.url, node.callFrame.functionName)
    packages.set(pkg, (packages.get(pkg) ?? 0) + us)
  }
  const busy = total - idle
  const entries = (map: Map<string, number>): ProfileEntry[] => [...map]
    .sort((a, b) => b[1] - a[1])
    .slice(0, top)
    .map(([name, us]) => ({ name, self_ms: Math.round(us / 100) / 10, percent: busy > 0 ? Math.round((us / busy) * 1000) / 10 : 0 }))
  return {
    total_ms: Math.round(total / 1000),
    idle_ms: Math.round(idle / 1000),
    busy_ms: Math.round(busy / 1000),
    functions: entries(functions),
    packages: entries(packages)
  }
}

export function renderProfileSummary (title: string, summary: ProfileSummary): string {
  const lines = [`${title}: ${summary.busy_ms} ms busy of ${summary.total_ms} ms sampled`, '  self time by package:']
  for (const p of summary.packages) lines.push(`    ${p.percent.toFixed(1).padStart(5)} %  ${String(p.self_ms).padStart(9)} ms  ${p.name}`)
  lines.push('  self time by function:')
  for (const f of summary.functions) lines.push(`    ${f.percent.toFixed(1).padStart(5)} %  ${String(f.self_ms).padStart(9)} ms  ${f.name}`)
  return lines.join('\n')
}

/** The .cpuprofile files given, or found in the given directories. */
export async function profileFiles (paths: readonly string[]): Promise<string[]> {
  const files: string[] = []
  for (const path of paths) {
    if ((await stat(path)).isDirectory()) {
      for (const name of (await readdir(path)).sort()) if (name.endsWith('.cpuprofile')) files.push(join(path, name))
    } else {
      files.push(path)
    }
  }
  return files
}

/** `CPU.<date>.<time>.<pid>.<tid>.<seq>.cpuprofile` → pid, or null. */
export function profilePid (file: string): number | null {
  const parts = basename(file).split('.')
  const pid = Number(parts[3])
  return parts[0] === 'CPU' && Number.isInteger(pid) ? pid : null
}

export async function summarizeProfileFile (file: string, top = 25): Promise<ProfileSummary> {
  return summarizeProfile(JSON.parse(await readFile(file, 'utf8')) as CpuProfile, top)
}

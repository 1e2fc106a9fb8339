import { describe, expect, it } from 'vitest'
import { packageOf, profilePid, renderProfileSummary, summarizeProfile, type CpuProfile } from '../src/profile.js'

const frame = (id: number, functionName: string, url: string, children: number[] = []) =>
  ({ id, callFrame: { functionName, url, lineNumber: 9, columnNumber: 0 }, children })

// root -> handler (ours) -> helmet middleware (a package); plus idle and GC.
const profile: CpuProfile = {
  startTime: 0,
  endTime: 10_000,
  nodes: [
    frame(1, '(root)', '', [2, 4, 5]),
    frame(2, 'handler', 'file:///repo/apps/api/dist/routes/health/index.js', [3]),
    frame(3, 'xFrameOptions', 'file:///repo/node_modules/helmet/index.cjs'),
    frame(4, '(idle)', ''),
    frame(5, '(garbage collector)', '')
  ],
  // Sample i is credited with timeDeltas[i + 1].
  samples: [2, 3, 3, 4, 5, 2],
  timeDeltas: [0, 1000, 2000, 2000, 4000, 500]
}

describe('summarizeProfile', () => {
  it('credits self time per function and per package, idle apart', () => {
    const s = summarizeProfile(profile)
    expect(s.total_ms).toBe(10)
    expect(s.idle_ms).toBe(4)
    expect(s.busy_ms).toBe(6)
    expect(s.packages).toEqual([
      { name: 'helmet', self_ms: 4, percent: 66.7 },
      { name: 'apps/api', self_ms: 1.5, percent: 25 },
      { name: '(garbage collector)', self_ms: 0.5, percent: 8.3 }
    ])
    expect(s.functions[0]).toEqual({ name: 'xFrameOptions helmet/index.cjs:10', self_ms: 4, percent: 66.7 })
    expect(renderProfileSummary('w', s)).toContain('66.7 %')
  })

  it('names packages, scoped ones and node internals', () => {
    expect(packageOf('file:///x/node_modules/@fastify/cors/index.js', 'f')).toBe('@fastify/cors')
    expect(packageOf('file:///x/node_modules/a/node_modules/b/x.js', 'f')).toBe('b')
    expect(packageOf('node:internal/streams/writable', 'f')).toBe('node:internal')
    expect(packageOf('', '(program)')).toBe('(program)')
    expect(packageOf('', 'writev')).toBe('(native)')
    expect(packageOf('file:///w/packages/groq-mock/dist/server.js', 'f')).toBe('packages/groq-mock')
  })

  it('reads the pid from --cpu-prof file names', () => {
    expect(profilePid('/d/CPU.20260101.101010.4242.0.001.cpuprofile')).toBe(4242)
    expect(profilePid('/d/other.cpuprofile')).toBeNull()
  })
})

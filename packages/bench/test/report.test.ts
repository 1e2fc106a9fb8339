import { describe, expect, it } from 'vitest'
import { formatNumber, formatValue, goalStatus, renderReport, renderTable, tableRows, toJson } from '../src/report.js'
import { sampleResult } from './fixture.js'

describe('formatNumber', () => {
  it('groups thousands and fixes decimals', () => {
    expect(formatNumber(1234567.891, 1)).toBe('1,234,567.9')
    expect(formatNumber(999, 0)).toBe('999')
    expect(formatNumber(0.12345, 3)).toBe('0.123')
    expect(formatNumber(-1234.5, 1)).toBe('-1,234.5')
    expect(formatNumber(-0.0001, 2)).toBe('0.00')
  })

  it('prints n/a for what was not measured', () => {
    expect(formatNumber(Number.NaN)).toBe('n/a')
    expect(formatNumber(null)).toBe('n/a')
    expect(formatValue(undefined, 'ms')).toBe('n/a')
    expect(formatValue(12.345, 'ms', 2)).toBe('12.35 ms')
  })
})

describe('goalStatus', () => {
  it('says met, MISSED or not measured', () => {
    const base = { id: 'x', label: '', op: '<' as const, target: 1, unit: '' }
    expect(goalStatus({ ...base, value: 0.5, met: true })).toBe('met')
    expect(goalStatus({ ...base, value: 2, met: false })).toBe('MISSED')
    expect(goalStatus({ ...base, value: null, met: null })).toBe('not measured')
    expect(goalStatus(undefined)).toBe('')
  })
})

describe('table', () => {
  it('has a row with goal and status for each of the nine goals', () => {
    const rows = tableRows(sampleResult())
    const withGoal = rows.filter((r) => r.goal !== '')
    expect(withGoal.map((r) => [r.phase, r.goal, r.result])).toEqual([
      ['health', '>= 0.9', 'MISSED'],
      ['health', '<= 1.25', 'MISSED'],
      ['health', '<= 0.03', 'met'],
      ['instructions', '<= 1.15', 'MISSED'],
      ['login', '>= 0.85', 'met'],
      ['ask', '<= 1.1', 'MISSED'],
      ['ingest', '< 25 ms', 'met'],
      ['ingest', '>= 0.8', 'met'],
      ['memory', '< 120 MB', 'MISSED']
    ])
    expect(rows.find((r) => r.measurement.startsWith('ratio stack / bare'))?.value).toBe('0.500')
  })

  it('leaves out phases that did not run', () => {
    const result = sampleResult()
    delete result.login
    delete result.ingest
    delete result.instructions
    const phases = new Set(tableRows(result).map((r) => r.phase))
    expect([...phases]).toEqual(['health', 'ask', 'memory'])
  })

  it('aligns columns, values to the right', () => {
    const text = renderTable([
      { phase: 'a', measurement: 'm', value: '1', goal: '', result: '' },
      { phase: 'bb', measurement: 'mmm', value: '1,000', goal: '< 1', result: 'met' }
    ])
    expect(text.split('\n')).toEqual([
      'phase  measurement  value  goal  result',
      '-----  -----------  -----  ----  ------',
      'a      m                1',
      'bb     mmm          1,000  < 1   met'
    ])
  })

  it('renders the whole report with the goals summary and warnings', () => {
    const result = sampleResult()
    result.warnings.push('the machine was busy')
    const text = renderReport(result)
    expect(text).toContain('DocuMind Voice bench, full run (180 s): 2 PM2 workers, bcrypt cost 12')
    expect(text).toContain('Goals met: 4 of 9 measured (9 in total).')
    expect(text).toContain('warning: the machine was busy')
    expect(text).toContain('RSS per worker, idle 12 s after boot, NOT settled (126 / 121)')
  })
})

describe('toJson', () => {
  it('writes non-finite numbers as null and keeps the documented keys', () => {
    const result = sampleResult()
    result.health!.p99_ms = Number.NaN
    const parsed = JSON.parse(toJson(result)) as Record<string, Record<string, unknown>>
    expect(parsed.health!.p99_ms).toBeNull()
    expect(parsed.health!.ratio).toBe(0.5)
    expect(parsed.login!.ratio).toBe(0.9)
    expect(parsed.ask!.p95_over_latency).toBe(1.2)
    expect(parsed.ingest!.health_p99_ms).toBe(20)
    expect(parsed.ingest!.ratio).toBe(0.9)
    expect(parsed.memory!.idle_rss_mb).toBe(125.5)
  })
})

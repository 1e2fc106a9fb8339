import { describe, expect, it } from 'vitest'
import { parseCliArgs, UsageError } from '../src/args.js'
import { formatBytes, formatMs, parseDuration, parseSize } from '../src/units.js'

describe('parseDuration / parseSize', () => {
  it('reads durations in ms', () => {
    expect(parseDuration('30s')).toBe(30_000)
    expect(parseDuration('30')).toBe(30_000)
    expect(parseDuration('2m')).toBe(120_000)
    expect(parseDuration('1.5s')).toBe(1500)
    expect(parseDuration('250ms')).toBe(250)
    expect(parseDuration('1h')).toBe(3_600_000)
    expect(() => parseDuration('soon')).toThrow(/invalid duration/)
    expect(() => parseDuration('0s')).toThrow(/greater than 0/)
  })

  it('reads sizes in binary units', () => {
    expect(parseSize('1MB')).toBe(1_048_576)
    expect(parseSize('1MiB')).toBe(1_048_576)
    expect(parseSize('512KB')).toBe(524_288)
    expect(parseSize('1.5mb')).toBe(1_572_864)
    expect(parseSize('2000')).toBe(2000)
    expect(() => parseSize('1TB')).toThrow(/invalid size/)
  })

  it('formats', () => {
    expect(formatMs(0.5)).toBe('0.5 ms')
    expect(formatMs(250)).toBe('250 ms')
    expect(formatMs(2145)).toBe('2.15 s')
    expect(formatBytes(1_048_576)).toBe('1 MiB')
    expect(formatBytes(1536)).toBe('1.5 KiB')
  })
})

describe('CLI arguments', () => {
  it('has defaults for a full local run', () => {
    const { config, help } = parseCliArgs([])
    expect(help).toBe(false)
    expect(config.target).toBeUndefined()
    expect(config.scenarios).toEqual(['health', 'signups', 'logins', 'stress', 'query', 'upload', 'sustained'])
    expect(config.xff).toBe(true)
    expect(config.llmLatencyMs).toBe(2000)
    expect(config.sustained.durationMs).toBe(30_000)
    expect(config.upload.sizeBytes).toBe(1_048_576)
  })

  it('reads every option', () => {
    const { config } = parseCliArgs([
      '--target', 'http://example.test:8080/', '--scenario', 'signups,health', '--scenario', 'logins',
      '--duration', '45s', '--connections', '12', '--llm-latency', '500', '--upload-size', '2MB', '--workers', '3',
      '--json', 'out.json', '--html', 'out.html', '--threshold', 'health.p95<50', '--threshold', 'overall.errorRate<1',
      '--no-xff', '--quiet', '--login-email', 'a@b.c', '--login-password', 'secret1', '--require', 'excellent', '--rate', '0'
    ])
    expect(config).toMatchObject({
      target: 'http://example.test:8080',
      scenarios: ['health', 'signups', 'logins'],
      connections: 12,
      llmLatencyMs: 500,
      workers: 3,
      jsonFile: 'out.json',
      htmlFile: 'out.html',
      thresholds: [
        { source: 'health.p95<50', scenario: 'health', metric: 'p95', op: '<', value: 50 },
        { source: 'overall.errorRate<1', scenario: 'overall', metric: 'errorRate', op: '<', value: 1 }
      ],
      xff: false,
      quiet: true,
      loginEmail: 'a@b.c',
      loginPassword: 'secret1',
      require: 'excellent'
    })
    expect(config.sustained).toMatchObject({ durationMs: 45_000, rate: 0 })
    expect(config.upload.sizeBytes).toBe(2 * 1_048_576)
  })

  it('rejects bad usage', () => {
    expect(() => parseCliArgs(['--scenario', 'nope'])).toThrow(UsageError)
    expect(() => parseCliArgs(['--threshold', 'health.p95'])).toThrow(UsageError)
    expect(() => parseCliArgs(['--scenario', 'health', '--threshold', 'stress.p95<5'])).toThrow(/unknown scenario/)
    expect(() => parseCliArgs(['--target', 'ftp://x'])).toThrow(UsageError)
    expect(() => parseCliArgs(['--connections', '0'])).toThrow(UsageError)
    expect(() => parseCliArgs(['--login-email', 'a@b.c'])).toThrow(/together/)
    expect(() => parseCliArgs(['--bogus'])).toThrow(UsageError)
    expect(() => parseCliArgs(['--xff', '--no-xff'])).toThrow(UsageError)
  })
})

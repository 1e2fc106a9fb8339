// Parsing of human-friendly CLI values: durations ("30s", "2m", "1500ms") and sizes ("1MB", "512KB").

const DURATION_UNITS_MS: Record<string, number> = {
  ms: 1,
  s: 1000,
  sec: 1000,
  m: 60_000,
  min: 60_000,
  h: 3_600_000
}

/** Parses a duration into milliseconds. A bare number is seconds ("30" = 30 s). */
export function parseDuration (text: string): number {
  const match = /^\s*(\d+(?:\.\d+)?)\s*(ms|s|sec|m|min|h)?\s*$/i.exec(text)
  if (match === null) throw new Error(`invalid duration "${text}" (examples: 30s, 2m, 1500ms)`)
  const value = Number(match[1])
  const unit = (match[2] ?? 's').toLowerCase()
  const ms = value * DURATION_UNITS_MS[unit]!
  if (!Number.isFinite(ms) || ms <= 0) throw new Error(`invalid duration "${text}": must be greater than 0`)
  return Math.round(ms)
}

const SIZE_UNITS: Record<string, number> = {
  b: 1,
  k: 1024,
  kb: 1024,
  kib: 1024,
  m: 1024 * 1024,
  mb: 1024 * 1024,
  mib: 1024 * 1024
}

/**
 * Parses a size into bytes. Units are binary, like the API's own limit ("10MB" there is 10 MiB):
 * 1KB = 1024 bytes, 1MB = 1048576 bytes. A bare number is bytes.
 */
export function parseSize (text: string): number {
  const match = /^\s*(\d+(?:\.\d+)?)\s*([a-z]*)\s*$/i.exec(text)
  const unit = (match?.[2] ?? '').toLowerCase() || 'b'
  if (match === null || SIZE_UNITS[unit] === undefined) {
    throw new Error(`invalid size "${text}" (examples: 1MB, 512KB, 200000)`)
  }
  const bytes = Math.round(Number(match[1]) * SIZE_UNITS[unit])
  if (bytes <= 0) throw new Error(`invalid size "${text}": must be greater than 0`)
  return bytes
}

export function formatBytes (bytes: number): string {
  if (bytes >= 1024 ** 3) return `${(bytes / 1024 ** 3).toFixed(1)} GiB`
  if (bytes >= 1024 * 1024) return `${(bytes / (1024 * 1024)).toFixed(bytes % (1024 * 1024) === 0 ? 0 : 2)} MiB`
  if (bytes >= 1024) return `${(bytes / 1024).toFixed(bytes % 1024 === 0 ? 0 : 1)} KiB`
  return `${bytes} B`
}

/** Milliseconds for humans: "850 ms", "2.31 s". */
export function formatMs (ms: number): string {
  if (!Number.isFinite(ms)) return '-'
  if (ms >= 1000) return `${(ms / 1000).toFixed(2)} s`
  if (ms >= 100) return `${ms.toFixed(0)} ms`
  return `${ms.toFixed(1)} ms`
}

export function formatDurationMs (ms: number): string {
  if (ms >= 60_000) return `${Math.floor(ms / 60_000)}m${Math.round((ms % 60_000) / 1000)}s`
  return `${(ms / 1000).toFixed(2)}s`
}

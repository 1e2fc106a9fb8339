// Parses Flask-Limiter style limit strings ("5 per minute", "200 per day; 50 per hour") so operators
// can keep the Flask backend's notation in their environment files.

export interface RateLimitSpec {
  max: number
  windowMs: number
  /** Canonical description, as 429 messages print it: "5 per 1 minute". */
  description: string
}

const UNIT_MS: Record<string, number> = {
  second: 1000,
  minute: 60_000,
  hour: 3_600_000,
  day: 86_400_000
}

const LIMIT_RE = /^(\d+)\s*(?:per|\/)\s*(\d+)?\s*(second|minute|hour|day)s?$/i

export function parseRateLimit (text: string): RateLimitSpec {
  const match = LIMIT_RE.exec(text.trim())
  if (match === null) {
    throw new Error(`Invalid rate limit "${text}": expected "<n> per [<m>] second|minute|hour|day"`)
  }
  const max = Number(match[1])
  const count = match[2] === undefined ? 1 : Number(match[2])
  const unit = match[3]!.toLowerCase()
  if (count < 1) throw new Error(`Invalid rate limit "${text}": the window must be at least 1 ${unit}`)
  return { max, windowMs: count * UNIT_MS[unit]!, description: `${max} per ${count} ${unit}` }
}

export function parseRateLimits (text: string): RateLimitSpec[] {
  const limits = text.split(/[;,]/).map((part) => part.trim()).filter((part) => part !== '').map(parseRateLimit)
  if (limits.length === 0) throw new Error(`Invalid rate limit "${text}": no limit given`)
  return limits
}

// The limits a deployment enforces with its default configuration, read from the API's own
// configuration code (its config module given an empty environment) rather than restated here.

interface Limit { max: number, windowMs: number }
interface ApiConfigModule {
  loadConfig: (env: NodeJS.ProcessEnv) => {
    rateLimits: { default: Limit[], signup: Limit, login: Limit }
    documents: { maxPerUser: number }
    ask: { queryLimitPerDay: number }
  }
}

// Imported by name at run time (the API's build carries no type declarations).
const specifier = '@documind/api/dist/config.js'
const defaults = (await import(specifier) as ApiConfigModule).loadConfig({})

/** The default per-endpoint limits' tightest one (fewest requests: 50 per hour against 200 per day). */
function tightest (limits: readonly Limit[]): Limit {
  const [first, ...rest] = limits
  if (first === undefined) throw new Error('the API configures no default rate limit')
  return rest.reduce((a, b) => b.max < a.max ? b : a, first)
}

const endpoint = tightest(defaults.rateLimits.default)

export const LIMITS = {
  signup: { max: defaults.rateLimits.signup.max, windowMs: defaults.rateLimits.signup.windowMs },
  login: { max: defaults.rateLimits.login.max, windowMs: defaults.rateLimits.login.windowMs },
  /** Per endpoint and address. */
  endpoint: { max: endpoint.max, windowMs: endpoint.windowMs },
  documentsPerUser: defaults.documents.maxPerUser,
  queriesPerDay: defaults.ask.queryLimitPerDay
} as const

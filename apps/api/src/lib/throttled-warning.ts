/** One line per interval: enough to see an outage or an overload without a line per request. */
export const WARNING_INTERVAL_MS = 10_000

/**
 * Wraps a log call so it runs at most once per `intervalMs`; calls in between are dropped. For
 * failures that repeat on every request while they last (a store down, a queue full).
 */
export function throttledWarning<A extends unknown[]> (write: (...args: A) => void, intervalMs = WARNING_INTERVAL_MS): (...args: A) => void {
  let last = -Infinity
  return (...args) => {
    const now = Date.now()
    if (now - last < intervalMs) return
    last = now
    write(...args)
  }
}

/**
 * Collects the calls made during one turn of the event loop and runs them as one batch: DataLoader's
 * scheduling (flush on setImmediate, after every I/O callback of the turn), for writes as well as reads.
 * Under load, the requests a worker handles in one turn share a round trip to the database.
 */
export class TickBatcher<I, O> {
  #pending: Array<{ input: I, resolve: (output: O) => void, reject: (err: unknown) => void }> = []
  #scheduled = false

  /** `run` answers one output per input, in order, or rejects for the whole batch. */
  constructor (private readonly run: (inputs: I[]) => Promise<O[]>, private readonly maxBatch = 256) {}

  async add (input: I): Promise<O> {
    return await new Promise<O>((resolve, reject) => {
      this.#pending.push({ input, resolve, reject })
      if (!this.#scheduled) {
        this.#scheduled = true
        setImmediate(() => this.#flush())
      }
    })
  }

  #flush (): void {
    this.#scheduled = false
    const pending = this.#pending
    this.#pending = []
    for (let start = 0; start < pending.length; start += this.maxBatch) {
      const batch = pending.slice(start, start + this.maxBatch)
      this.run(batch.map((p) => p.input)).then(
        (outputs) => { batch.forEach((p, i) => p.resolve(outputs[i]!)) },
        (err: unknown) => { for (const p of batch) p.reject(err) }
      )
    }
  }
}

/** Code-unit order of keys: the order batches lock rows in, the same in every worker. */
export function compareKeys (a: string, b: string): number {
  return a < b ? -1 : a > b ? 1 : 0
}

export interface CounterIncrement {
  key: string
  windowMs: number
}

export interface CounterValue {
  count: number
  ttlMs: number
}

/**
 * Fixed-window counters incremented in batches: `addAll` adds `adds[i]` to `keys[i]` (distinct keys,
 * in key order so concurrent batches lock rows in the same order) and answers each key's new count.
 * Every caller gets the count it would have seen had the increments run one by one.
 */
export function counterBatcher (
  addAll: (keys: string[], adds: number[], windowsMs: number[]) => Promise<Array<{ key: string, count: number, ttlMs: number }>>
): TickBatcher<CounterIncrement, CounterValue> {
  return new TickBatcher(async (increments) => {
    const byKey = new Map<string, { windowMs: number, n: number }>()
    const position = increments.map(({ key, windowMs }) => {
      const entry = byKey.get(key) ?? { windowMs, n: 0 }
      byKey.set(key, entry)
      return entry.n++
    })
    const keys = [...byKey.keys()].sort(compareKeys)
    const rows = await addAll(keys, keys.map((k) => byKey.get(k)!.n), keys.map((k) => byKey.get(k)!.windowMs))
    const after = new Map(rows.map((r) => [r.key, r]))
    return increments.map(({ key }, i) => {
      const row = after.get(key)
      if (row === undefined) throw new Error(`counter ${key} missing from the batch result`)
      return { count: row.count - byKey.get(key)!.n + position[i]! + 1, ttlMs: row.ttlMs }
    })
  })
}

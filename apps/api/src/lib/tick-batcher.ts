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

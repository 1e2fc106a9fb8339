import { randomInt } from 'node:crypto'

/**
 * Hands out client addresses for X-Forwarded-For, one per virtual user. Each run starts at a random
 * point of 10.0.0.0/8 and counts up, so two runs within a rate-limit window (an hour for signups)
 * practically never share an address, even against a persistent limit store.
 */
export class AddressAllocator {
  private counter: number

  constructor (start = randomInt(0, 1 << 23)) {
    this.counter = start
  }

  next (): string {
    for (;;) {
      const n = this.counter++ % (1 << 24)
      const c = n & 0xff
      if (c === 0 || c === 255) continue
      return `10.${(n >> 16) & 0xff}.${(n >> 8) & 0xff}.${c}`
    }
  }
}

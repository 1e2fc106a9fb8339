import { describe, expect, it } from 'vitest'

// Captured before anything in this test file loads pdf.js.
const push = Array.prototype.push
const parse = JSON.parse

describe('native builtins after loading pdf.js', () => {
  it('pdf-text restores the builtins core-js replaced', async () => {
    const { restoredBuiltins } = await import('../../src/ingestion/pdf-text.js')
    expect(Array.prototype.push).toBe(push)
    expect(JSON.parse).toBe(parse)
    if (process.versions.node.startsWith('20.')) {
      // V8 11.x fails core-js' feature tests, so the legacy pdf.js build replaces them.
      expect(restoredBuiltins).toEqual(expect.arrayContaining(['Array.prototype.push']))
    }
    const arr: number[] = []
    expect(arr.push(1, 2)).toBe(2)
    expect(JSON.parse('{"a":[1]}')).toEqual({ a: [1] })
  })
})

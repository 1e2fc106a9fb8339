import { describe, expect, it } from 'vitest'
import { fitPages } from '../src/pdf/large.js'
import { makePdf, multipartFile } from '../src/pdf/render.js'
import { makeReportPdf, noisePng } from '../src/pdf/report.js'

describe('report PDFs', () => {
  it('are real PDFs with text, padded to the requested size', async () => {
    const small = await makeReportPdf(1)
    expect(small.subarray(0, 5).toString()).toBe('%PDF-')
    expect(small.subarray(-6).toString()).toMatch(/%%EOF/)
    const big = await makeReportPdf(1, 300_000)
    expect(Math.abs(big.length - 300_000)).toBeLessThan(3000)
  })

  it('noise PNG has the PNG signature and about the requested size', () => {
    const png = noisePng(30_000)
    expect(png.subarray(1, 4).toString()).toBe('PNG')
    expect(png.length).toBeGreaterThan(29_000)
  })
})

describe('makePdf', () => {
  it('writes one page per entry, blank pages included', async () => {
    const pdf = await makePdf({ pages: ['one', '', 'three'], compress: false })
    expect(pdf.subarray(0, 5).toString()).toBe('%PDF-')
    expect(pdf.toString('latin1').match(/\/Type \/Page\b/g)).toHaveLength(3)
  })
})

describe('fitPages', () => {
  const render = async (pages: number): Promise<{ data: Buffer }> => ({ data: Buffer.alloc(1000 * pages) })

  it('lands within the bounds, correcting the first guess', async () => {
    expect((await fitPages(render, { targetBytes: 50_000 })).pages).toBe(50)
    const atLeast = await fitPages(render, { targetBytes: 50_000, minBytes: 60_000 })
    expect(atLeast.data.length).toBeGreaterThanOrEqual(60_000)
    const atMost = await fitPages(render, { targetBytes: 50_000, maxBytes: 40_000 })
    expect(atMost.data.length).toBeLessThanOrEqual(40_000)
  })

  it('throws when the bounds cannot be met', async () => {
    await expect(fitPages(render, { targetBytes: 100, maxBytes: 100 })).rejects.toThrow(/could not generate/)
  })
})

describe('multipartFile', () => {
  it('carries the file part between its boundaries', () => {
    const m = multipartFile('file', 'a.pdf', Buffer.from('%PDF-1.3'))
    const boundary = m.contentType.split('boundary=')[1]!
    const text = m.body.toString()
    expect(text.startsWith(`--${boundary}\r\n`)).toBe(true)
    expect(text).toContain('name="file"; filename="a.pdf"\r\nContent-Type: application/pdf\r\n')
    expect(text.endsWith(`--${boundary}--\r\n`)).toBe(true)
  })
})

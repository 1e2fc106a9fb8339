// Large documents of real text, generated to a byte size: a small probe gives the size of a page,
// then the page count is corrected until the file lands within the requested bounds.
import { type PdfDoc, type PdfOptions, renderPdf } from './render.js'

export interface SizeBounds {
  /** The size aimed at. */
  targetBytes: number
  /** Never smaller than this (default 0). */
  minBytes?: number
  /** Never larger than this (default unbounded). */
  maxBytes?: number
  /** The first page count is target / page size times this (default 1). */
  overshoot?: number
}

/** Renders `render(pages)` with the page count that lands within the bounds; throws after a few attempts. */
export async function fitPages<R extends { data: Buffer }> (render: (pages: number) => Promise<R>, bounds: SizeBounds): Promise<R & { pages: number }> {
  const { targetBytes, minBytes = 0, maxBytes = Number.POSITIVE_INFINITY, overshoot = 1 } = bounds
  const probePages = 20
  const perPage = (await render(probePages)).data.length / probePages
  let pages = Math.max(1, Math.round((targetBytes / perPage) * overshoot))
  for (let attempt = 0; attempt < 8; attempt++) {
    const out = await render(pages)
    const size = out.data.length
    if (size > maxBytes) pages = Math.max(1, Math.floor(pages * (maxBytes / size) * 0.99))
    else if (size < minBytes) pages = Math.ceil(pages * (minBytes / size) * 1.02)
    else return { ...out, pages }
  }
  throw new Error(`could not generate a PDF between ${minBytes} and ${maxBytes} bytes`)
}

/** Deterministic pseudo-prose from `vocabulary`: real words, real sentences, so pdf.js has real text to extract. */
function prose (vocabulary: readonly string[], seed: number, words: number): string {
  let s = seed >>> 0
  const out: string[] = []
  for (let i = 0; i < words; i++) {
    s = (Math.imul(s, 1103515245) + 12345) >>> 0
    const word = vocabulary[(s >>> 8) % vocabulary.length]!
    out.push(i === 0 || out[out.length - 1]!.endsWith('.') ? word[0]!.toUpperCase() + word.slice(1) : word)
    if ((s & 15) === 0 && i < words - 1) out[out.length - 1] += '.'
  }
  return out.join(' ') + '.'
}

const PROSE_VOCABULARY = (
  'the lighthouse keeper logged every passing steamship in the ledger while the harbor lamp burned through ' +
  'the night and the weather station recorded wind gusts above one hundred kilometres per hour during winter ' +
  'storms on the northern coast where orchard growers irrigated apple trees before pruning season began and ' +
  'librarians archived rare maps municipal records engineering drawings budget reports maintenance schedules ' +
  'inspection notes safety rules operator training visitor guidance equipment purchases annual summaries'
).split(' ')

function drawProsePages (doc: PdfDoc, pages: number): void {
  for (let p = 0; p < pages; p++) {
    doc.addPage()
    doc.font('Helvetica').fontSize(10)
    doc.text(`Section ${p + 1}. ` + prose(PROSE_VOCABULARY, p * 7919 + 1, 480))
  }
}

export interface ProsePdf {
  data: Buffer
  pages: number
}

/**
 * A text-only A4 PDF of about `targetBytes` (never above `maxBytes`): about 9.6 KB of uncompressed
 * laid-out prose per page, so 10 MB is about 1,000 pages. Uncompressed content streams put the size
 * into text rather than into an image that extraction would skip.
 */
export async function makeProsePdf (targetBytes: number, maxBytes = Number.POSITIVE_INFINITY, info: PdfOptions['info'] = {}): Promise<ProsePdf> {
  const options: PdfOptions = { size: 'A4', margin: 56, compress: false, info }
  return await fitPages(async (pages) => ({ data: await renderPdf(options, (doc) => drawProsePages(doc, pages)) }), { targetBytes, maxBytes })
}

const LINE_VOCABULARY = (
  'alpha bravo charlie delta echo foxtrot golf hotel india juliet kilo lima mike november oscar papa ' +
  'quebec romeo sierra tango uniform victor whiskey xray yankee zulu document contract invoice report ' +
  'summary analysis revenue quarter growth market customer product service policy clause section'
).split(' ')

/** Escapes a string for a PDF literal string `( ... )`. */
function pdfLiteral (text: string): string {
  return text.replace(/[\\()]/g, (c) => `\\${c}`)
}

export interface LargePdfResult {
  pdf: Buffer
  pageCount: number
  /** Total number of body words written (excluding the per-page `PAGE-n` marker lines). */
  wordCount: number
}

export interface LargePdfOptions {
  /** Text lines per page (14 words each, default 60). */
  linesPerPage?: number
  /** Flate-compress content streams (default false). A compressed file of the same size holds ~4x more text. */
  compress?: boolean
}

/** Deterministic pages of real text: `PAGE-<n>` marker then `linesPerPage` lines of 14 words. */
async function renderLinePages (pageCount: number, linesPerPage: number, compress: boolean): Promise<{ data: Buffer, wordCount: number }> {
  let wordCount = 0
  let seed = 7
  const nextWord = (): string => {
    seed = (seed * 1103515245 + 12345) >>> 0
    return LINE_VOCABULARY[(seed >>> 8) % LINE_VOCABULARY.length] ?? 'word'
  }
  const data = await renderPdf({ compress }, (doc) => {
    for (let p = 1; p <= pageCount; p++) {
      doc.addPage({ size: 'A4', margin: 36 })
      // One high-level text call registers the font in the page resources.
      doc.font('Helvetica').fontSize(9).text(`PAGE-${p}`, 36, 30, { lineBreak: false })
      const fontId = (doc as unknown as { _font: { id: string } })._font.id
      const lines: string[] = [`BT /${fontId} 9 Tf 11 TL 36 790 Td`]
      for (let l = 0; l < linesPerPage; l++) {
        const words: string[] = []
        for (let w = 0; w < 14; w++) words.push(nextWord())
        wordCount += words.length
        lines.push(`(${pdfLiteral(words.join(' '))}) Tj T*`)
      }
      lines.push('ET')
      doc.addContent(lines.join('\n'))
    }
  })
  return { data, wordCount }
}

/**
 * A PDF of at least `targetBytes` bytes made of many pages of real text.
 *
 * Text is written as raw text operators (one `Tj` per line), which avoids pdfkit's line wrapping:
 * 10 MB take about a second. Each page starts with a marker line `PAGE-<n>` so tests can check page
 * attribution.
 */
export async function makeLargePdf (targetBytes: number, options: LargePdfOptions = {}): Promise<LargePdfResult> {
  const { linesPerPage = 60, compress = false } = options
  const { data, pages, wordCount } = await fitPages((pages) => renderLinePages(pages, linesPerPage, compress), { targetBytes, minBytes: targetBytes, overshoot: 1.01 })
  return { pdf: data, pageCount: pages, wordCount }
}

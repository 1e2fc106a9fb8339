/**
 * PDF fixture generators for ingestion tests.
 *
 * Everything is generated in memory (no binary fixtures in the repo). pdfkit is a
 * devDependency of apps/api; its types come from the hoisted `@types/pdfkit`.
 */
import { deflateSync } from 'node:zlib'
import PDFDocument from 'pdfkit'

type PdfDoc = InstanceType<typeof PDFDocument>
type PdfOptions = NonNullable<ConstructorParameters<typeof PDFDocument>[0]>

/** Create a pdfkit document, let `draw` fill it, and collect the output into a Buffer. */
export function renderPdf (options: PdfOptions, draw: (doc: PdfDoc) => void): Promise<Buffer> {
  return new Promise((resolve, reject) => {
    const doc = new PDFDocument({ autoFirstPage: false, ...options })
    const parts: Buffer[] = []
    doc.on('data', (part: Buffer) => parts.push(part))
    doc.on('end', () => resolve(Buffer.concat(parts)))
    doc.on('error', reject)
    try {
      draw(doc)
      doc.end()
    } catch (err) {
      reject(err)
    }
  })
}

export interface MakePdfOptions {
  /** One page per entry; each entry is laid out (wrapped) as real text. An empty string gives a blank page. */
  pages: string[]
  /** Compress content streams (pdfkit default: true). */
  compress?: boolean
  /** Document info dictionary (Title, Author, ...). */
  info?: PdfOptions['info']
}

/** A PDF with one text page per entry of `pages`. */
export function makePdf ({ pages, compress = true, info }: MakePdfOptions): Promise<Buffer> {
  return renderPdf({ compress, ...(info ? { info } : {}) }, (doc) => {
    for (const text of pages) {
      doc.addPage()
      if (text.length > 0) doc.font('Helvetica').fontSize(12).text(text)
    }
  })
}

/** A PDF that needs a user password to open (pdfkit RC4/AES encryption). */
export function makeEncryptedPdf (password = 'secret'): Promise<Buffer> {
  return renderPdf({ userPassword: password, ownerPassword: `${password}-owner`, pdfVersion: '1.7' }, (doc) => {
    doc.addPage().font('Helvetica').text('This text is protected by a password.')
  })
}

/** A `%PDF-` header followed by deterministic garbage (no xref, no objects). */
export function makeCorruptPdf (size = 4096): Buffer {
  const header = Buffer.from('%PDF-1.7\n%\xe2\xe3\xcf\xd3\n', 'latin1')
  const garbage = Buffer.alloc(size)
  let seed = 0x2545f491
  for (let i = 0; i < size; i++) {
    seed ^= seed << 13
    seed ^= seed >>> 17
    seed ^= seed << 5
    garbage[i] = seed & 0xff
  }
  return Buffer.concat([header, garbage])
}

/** A valid multi-page PDF cut in half (object bodies, xref table and trailer are lost). */
export async function makeTruncatedPdf (): Promise<Buffer> {
  const full = await makePdf({
    pages: ['First page of a document that will be cut.', 'Second page.', 'Third page.', 'Fourth page.']
  })
  return Buffer.from(full.subarray(0, Math.floor(full.length / 2)))
}

/** Pages with vector drawings only: no text operators at all. */
export function makeTextlessPdf (pageCount = 2): Promise<Buffer> {
  return renderPdf({}, (doc) => {
    for (let i = 0; i < pageCount; i++) {
      doc.addPage()
      doc.rect(50 + i * 10, 50, 200, 100).fill('#3366cc')
      doc.circle(300, 300, 80).lineWidth(3).stroke('#cc3333')
      doc.moveTo(50, 500).lineTo(500, 700).stroke()
    }
  })
}

const VOCABULARY = (
  'alpha bravo charlie delta echo foxtrot golf hotel india juliet kilo lima mike november oscar papa ' +
  'quebec romeo sierra tango uniform victor whiskey xray yankee zulu document contract invoice report ' +
  'summary analysis revenue quarter growth market customer product service policy clause section'
).split(' ')

/** Escape a string for a PDF literal string `( ... )`. */
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
function renderLargePdf (pageCount: number, linesPerPage: number, compress: boolean): Promise<{ pdf: Buffer, wordCount: number }> {
  let wordCount = 0
  let seed = 7
  const nextWord = (): string => {
    seed = (seed * 1103515245 + 12345) >>> 0
    return VOCABULARY[(seed >>> 8) % VOCABULARY.length] ?? 'word'
  }
  return renderPdf({ compress }, (doc) => {
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
  }).then((pdf) => ({ pdf, wordCount }))
}

/**
 * A PDF of at least `targetBytes` bytes made of many pages of real text.
 *
 * Text is written as raw text operators (one `Tj` per line), which avoids pdfkit's
 * line wrapping: 10 MB take about a second. Each page starts with a marker line
 * `PAGE-<n>` so tests can check page attribution.
 */
export async function makeLargePdf (targetBytes: number, options: LargePdfOptions = {}): Promise<LargePdfResult> {
  const { linesPerPage = 60, compress = false } = options
  // Estimate the size of a page from a small probe, then generate (and top up if short).
  const probePages = 20
  const probe = await renderLargePdf(probePages, linesPerPage, compress)
  const perPage = probe.pdf.length / probePages
  let pageCount = Math.max(1, Math.ceil((targetBytes / perPage) * 1.01))
  for (;;) {
    const { pdf, wordCount } = await renderLargePdf(pageCount, linesPerPage, compress)
    if (pdf.length >= targetBytes) return { pdf, pageCount, wordCount }
    pageCount = Math.ceil(pageCount * (targetBytes / pdf.length) * 1.02)
  }
}

/**
 * Assemble a PDF from raw object bodies (object n = bodies[n - 1]), computing a correct
 * xref table. Object 1 must be the catalog.
 */
export function buildRawPdf (bodies: Array<string | Buffer>, header = '%PDF-1.7'): Buffer {
  const parts: Buffer[] = [Buffer.from(`${header}\n%\xe2\xe3\xcf\xd3\n`, 'latin1')]
  let offset = parts[0]!.length
  const offsets: number[] = []
  bodies.forEach((body, i) => {
    offsets.push(offset)
    const chunk = Buffer.concat([
      Buffer.from(`${i + 1} 0 obj\n`, 'latin1'),
      typeof body === 'string' ? Buffer.from(body, 'latin1') : body,
      Buffer.from('\nendobj\n', 'latin1')
    ])
    parts.push(chunk)
    offset += chunk.length
  })
  const xref = [
    'xref',
    `0 ${bodies.length + 1}`,
    '0000000000 65535 f ',
    ...offsets.map((o) => `${String(o).padStart(10, '0')} 00000 n `),
    'trailer',
    `<< /Size ${bodies.length + 1} /Root 1 0 R >>`,
    'startxref',
    String(offset),
    '%%EOF',
    ''
  ].join('\n')
  parts.push(Buffer.from(xref, 'latin1'))
  return Buffer.concat(parts)
}

/** A structurally valid PDF whose page tree is empty (`/Count 0`). */
export function makeZeroPagePdf (): Buffer {
  return buildRawPdf([
    '<< /Type /Catalog /Pages 2 0 R >>',
    '<< /Type /Pages /Kids [] /Count 0 >>'
  ])
}

/** Build a stream object body. */
function streamObject (dict: string, data: Buffer): Buffer {
  return Buffer.concat([
    Buffer.from(`<< ${dict} /Length ${data.length} >>\nstream\n`, 'latin1'),
    data,
    Buffer.from('\nendstream', 'latin1')
  ])
}

export interface PdfBombOptions {
  /** Size of the page content stream once inflated (default 512 MiB). */
  inflatedBytes?: number
}

/**
 * A small PDF whose single page has a FlateDecode content stream that inflates to
 * `inflatedBytes` (default 512 MiB) — a decompression bomb (~1000:1 ratio).
 * The stream starts with a real text operator, followed by whitespace padding.
 */
export function makePdfBomb ({ inflatedBytes = 512 * 1024 * 1024 }: PdfBombOptions = {}): Buffer {
  const prefix = Buffer.from('BT /F1 12 Tf 72 720 Td (boom) Tj ET\n', 'latin1')
  const padding = Buffer.alloc(Math.max(0, inflatedBytes - prefix.length), 0x20)
  const compressed = deflateSync(Buffer.concat([prefix, padding]), { level: 9 })
  return buildRawPdf([
    '<< /Type /Catalog /Pages 2 0 R >>',
    '<< /Type /Pages /Kids [3 0 R] /Count 1 >>',
    '<< /Type /Page /Parent 2 0 R /MediaBox [0 0 612 792] /Resources << /Font << /F1 5 0 R >> >> /Contents 4 0 R >>',
    streamObject('/Filter /FlateDecode', compressed),
    '<< /Type /Font /Subtype /Type1 /BaseFont /Helvetica /Encoding /WinAnsiEncoding >>'
  ])
}

/**
 * A hand-written one-page PDF with a given (uncompressed or Flate) content stream.
 * Handy for edge cases (odd characters, NUL bytes, etc.).
 */
export function makeRawTextPdf (content: string, { flate = false }: { flate?: boolean } = {}): Buffer {
  const data = Buffer.from(content, 'latin1')
  return buildRawPdf([
    '<< /Type /Catalog /Pages 2 0 R >>',
    '<< /Type /Pages /Kids [3 0 R] /Count 1 >>',
    '<< /Type /Page /Parent 2 0 R /MediaBox [0 0 612 792] /Resources << /Font << /F1 5 0 R >> >> /Contents 4 0 R >>',
    flate ? streamObject('/Filter /FlateDecode', deflateSync(data)) : streamObject('', data),
    '<< /Type /Font /Subtype /Type1 /BaseFont /Helvetica /Encoding /WinAnsiEncoding >>'
  ])
}

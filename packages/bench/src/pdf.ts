// Test documents generated with pdfkit: real, extractable text (never images), so extraction,
// chunking, retrieval and the answers all have real work to do.
import { randomBytes } from 'node:crypto'
import PDFDocument from 'pdfkit'

type PdfDoc = InstanceType<typeof PDFDocument>

function render (options: { compress: boolean, title: string }, draw: (doc: PdfDoc) => void): Promise<Buffer> {
  return new Promise((resolve, reject) => {
    const doc = new PDFDocument({ size: 'A4', margin: 56, compress: options.compress, autoFirstPage: false, info: { Title: options.title, Author: 'DocuMind bench' } })
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

/** The small document every /ask user uploads: one topic per page, and questions each page answers. */
export const ASK_PAGES = [
  'Harbor lighthouse operations. The lighthouse lamp is trimmed at dusk and its beam reaches twenty-two nautical miles. ' +
    'Keepers log every passing steamship in the ledger. The lens was replaced in 1998 after a winter storm cracked it.',
  'Orchard cooperative handbook. The apple orchard is irrigated every Tuesday morning. Pruning happens in late winter ' +
    'before the buds open. The cold store holds three thousand four hundred tonnes of apples after the harvest.',
  'Alpine weather station report. The sensor mast recorded a wind gust of one hundred eighty-seven kilometres per hour. ' +
    'The station is inspected every month, and its batteries are replaced each spring before the snow melts.',
  'City library archive guide. The reading room opens at nine and closes at six. Rare maps may only be consulted ' +
    'with gloves, and the archive keeps forty-one kilometres of shelves in the basement vaults.'
]

export const ASK_QUESTIONS = [
  'How far does the lighthouse beam reach?',
  'When is the apple orchard irrigated?',
  'What wind gust did the sensor mast record?',
  'When does the reading room open?',
  'When was the lighthouse lens replaced?',
  'How many tonnes does the cold store hold?',
  'How often is the weather station inspected?',
  'How long are the archive shelves?'
]

export async function makeAskPdf (): Promise<Buffer> {
  return await render({ compress: true, title: 'Bench facts' }, (doc) => {
    for (const text of ASK_PAGES) {
      doc.addPage()
      doc.font('Helvetica').fontSize(12).text(text)
    }
  })
}

const VOCABULARY = (
  'the lighthouse keeper logged every passing steamship in the ledger while the harbor lamp burned through ' +
  'the night and the weather station recorded wind gusts above one hundred kilometres per hour during winter ' +
  'storms on the northern coast where orchard growers irrigated apple trees before pruning season began and ' +
  'librarians archived rare maps municipal records engineering drawings budget reports maintenance schedules ' +
  'inspection notes safety rules operator training visitor guidance equipment purchases annual summaries'
).split(' ')

/** Deterministic pseudo-prose: real words, real sentences, so pdf.js has real text to extract. */
function paragraph (seed: number, words: number): string {
  let s = seed >>> 0
  const out: string[] = []
  for (let i = 0; i < words; i++) {
    s = (Math.imul(s, 1103515245) + 12345) >>> 0
    const word = VOCABULARY[(s >>> 8) % VOCABULARY.length]!
    out.push(i === 0 || out[out.length - 1]!.endsWith('.') ? word[0]!.toUpperCase() + word.slice(1) : word)
    if ((s & 15) === 0 && i < words - 1) out[out.length - 1] += '.'
  }
  return out.join(' ') + '.'
}

function drawTextPages (doc: PdfDoc, pages: number): void {
  for (let p = 0; p < pages; p++) {
    doc.addPage()
    doc.font('Helvetica').fontSize(10)
    doc.text(`Section ${p + 1}. ` + paragraph(p * 7919 + 1, 480))
  }
}

export interface LargePdf {
  data: Buffer
  pages: number
}

/**
 * A text-only PDF of about `targetBytes` (never above `maxBytes`): about 9.6 KB of uncompressed text
 * per A4 page, so 10 MB is about 1,000 pages of real prose. Uncompressed content streams put the size
 * into text rather than into an image that extraction would skip.
 */
export async function makeLargeTextPdf (targetBytes: number, maxBytes = Number.POSITIVE_INFINITY): Promise<LargePdf> {
  const samplePages = 20
  const sample = await render({ compress: false, title: 'Bench ingest' }, (doc) => drawTextPages(doc, samplePages))
  const perPage = sample.length / samplePages
  let pages = Math.max(1, Math.round(targetBytes / perPage))
  for (let attempt = 0; attempt < 4; attempt++) {
    const data = await render({ compress: false, title: 'Bench ingest' }, (doc) => drawTextPages(doc, pages))
    if (data.length <= maxBytes) return { data, pages }
    pages = Math.max(1, Math.floor(pages * (maxBytes / data.length) * 0.99))
  }
  throw new Error(`could not generate a PDF under ${maxBytes} bytes`)
}

/** A multipart/form-data body with one file part. */
export function multipartFile (field: string, filename: string, data: Buffer, contentType = 'application/pdf'): { body: Buffer, contentType: string } {
  const boundary = `----documind-bench-${randomBytes(8).toString('hex')}`
  const head = Buffer.from(
    `--${boundary}\r\nContent-Disposition: form-data; name="${field}"; filename="${filename}"\r\n` +
    `Content-Type: ${contentType}\r\n\r\n`)
  const tail = Buffer.from(`\r\n--${boundary}--\r\n`)
  return { body: Buffer.concat([head, data, tail]), contentType: `multipart/form-data; boundary=${boundary}` }
}

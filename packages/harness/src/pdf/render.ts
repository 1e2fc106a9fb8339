// Test documents generated in memory with pdfkit (no binary fixtures in the repository).
import { randomUUID } from 'node:crypto'
import PDFDocument from 'pdfkit'

export type PdfDoc = InstanceType<typeof PDFDocument>
export type PdfOptions = NonNullable<ConstructorParameters<typeof PDFDocument>[0]>

/** Creates a pdfkit document (no automatic first page), lets `draw` fill it, and collects the output. */
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

export interface MakePdfOptions extends PdfOptions {
  /** One page per entry; each entry is laid out (wrapped) as real text. An empty string gives a blank page. */
  pages: string[]
}

/** A PDF with one page of real, extractable text per entry of `pages` (12 pt Helvetica). */
export function makePdf ({ pages, ...options }: MakePdfOptions): Promise<Buffer> {
  return renderPdf(options, (doc) => {
    for (const text of pages) {
      doc.addPage()
      if (text.length > 0) doc.font('Helvetica').fontSize(12).text(text)
    }
  })
}

export interface Multipart {
  body: Buffer
  contentType: string
}

/** A multipart/form-data body with one file part. */
export function multipartFile (field: string, filename: string, data: Buffer, contentType = 'application/pdf'): Multipart {
  const boundary = `----documind-${randomUUID()}`
  const head = Buffer.from(
    `--${boundary}\r\nContent-Disposition: form-data; name="${field}"; filename="${filename}"\r\n` +
    `Content-Type: ${contentType}\r\n\r\n`)
  const tail = Buffer.from(`\r\n--${boundary}--\r\n`)
  return { body: Buffer.concat([head, data, tail]), contentType: `multipart/form-data; boundary=${boundary}` }
}

/**
 * PDF fixture generators for ingestion tests.
 *
 * Everything is generated in memory (no binary fixtures in the repo). Text documents and large
 * documents come from the shared harness; the encrypted, damaged, text-less and hand-built
 * (raw object) documents below are the API tests' own.
 */
import { deflateSync } from 'node:zlib'
import { makePdf, renderPdf } from '@documind/harness'

export { makeLargePdf, makePdf, renderPdf, type LargePdfOptions, type LargePdfResult, type MakePdfOptions } from '@documind/harness'

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

// Short technical reports with real, extractable text (so extraction and question answering have
// something to work with), optionally padded to a requested size with an incompressible image.
import { randomBytes } from 'node:crypto'
import { deflateSync } from 'node:zlib'
import { renderPdf } from './render.js'

const SUBJECTS = [
  { name: 'Harbor Lighthouse', unit: 'lamp', metric: 'beam range', value: 22, measure: 'nautical miles' },
  { name: 'Alpine Weather Station', unit: 'sensor mast', metric: 'wind gust record', value: 187, measure: 'km/h' },
  { name: 'City Library Archive', unit: 'reading room', metric: 'shelf length', value: 41, measure: 'kilometres' },
  { name: 'Riverside Water Plant', unit: 'filter bed', metric: 'daily output', value: 96, measure: 'megalitres' },
  { name: 'Orchard Cooperative', unit: 'cold store', metric: 'apple harvest', value: 3400, measure: 'tonnes' }
] as const

export interface Corpus {
  title: string
  paragraphs: string[]
  questions: string[]
}

/** A short technical report on one of a few fictional subjects, with questions it answers. */
export function corpus (seed: number): Corpus {
  const s = SUBJECTS[Math.abs(seed) % SUBJECTS.length]!
  const year = 1990 + (Math.abs(seed) % 30)
  const title = `${s.name}: Operations Report ${year}`
  const paragraphs = [
    `This report describes the operation of the ${s.name} during ${year}. The ${s.unit} was inspected every month and ` +
      `the ${s.metric} reached ${s.value} ${s.measure}, the highest figure since the station opened.`,
    `Maintenance follows a fixed schedule. Each spring the ${s.unit} is cleaned, worn parts are replaced and the ` +
      'control logs are archived. Staff record every intervention in the logbook with the date, the duration and the parts used.',
    `Safety rules require two trained operators on site whenever the ${s.unit} runs above ninety percent of its rated ` +
      'capacity. Visitors must be accompanied and may only enter the public gallery.',
    'The budget for the year was split between staff (fifty-five percent), equipment (thirty percent) and training ' +
      '(fifteen percent). The board approved a new monitoring system to be installed the following year.',
    `In summary, the ${s.name} met all of its targets. The main recommendation is to extend the inspection interval ` +
      `of the ${s.unit} from one month to six weeks, which would save about twelve working days per year.`
  ]
  const questions = [
    `What was the ${s.metric} of the ${s.name}?`,
    `How often was the ${s.unit} inspected?`,
    'How was the budget split?',
    'What does the safety rule require?',
    'What is the main recommendation of the report?',
    'Summarize the maintenance schedule.',
    `When did the ${s.name} report take place?`,
    'Who may enter the public gallery?'
  ]
  return { title, paragraphs, questions }
}

// ---- PNG of random pixels (a stored image does not compress, so it sets the file size) ----

const CRC_TABLE = (() => {
  const table = new Uint32Array(256)
  for (let n = 0; n < 256; n++) {
    let c = n
    for (let k = 0; k < 8; k++) c = (c & 1) !== 0 ? 0xedb88320 ^ (c >>> 1) : c >>> 1
    table[n] = c >>> 0
  }
  return table
})()

function crc32 (data: Buffer): number {
  let c = 0xffffffff
  for (const byte of data) c = CRC_TABLE[(c ^ byte) & 0xff]! ^ (c >>> 8)
  return (c ^ 0xffffffff) >>> 0
}

function pngChunk (type: string, data: Buffer): Buffer {
  const len = Buffer.alloc(4)
  len.writeUInt32BE(data.length)
  const typeAndData = Buffer.concat([Buffer.from(type, 'ascii'), data])
  const crc = Buffer.alloc(4)
  crc.writeUInt32BE(crc32(typeAndData))
  return Buffer.concat([len, typeAndData, crc])
}

/** An RGB PNG of random noise of about `bytes` bytes. */
export function noisePng (bytes: number): Buffer {
  const side = Math.max(1, Math.ceil(Math.sqrt(bytes / 3)))
  const width = side
  const height = Math.max(1, Math.ceil(bytes / (3 * width)))
  const rowLen = 1 + width * 3
  const raw = Buffer.alloc(rowLen * height)
  const noise = randomBytes(width * 3 * height)
  for (let y = 0; y < height; y++) {
    raw[y * rowLen] = 0 // filter: none
    noise.copy(raw, y * rowLen + 1, y * width * 3, (y + 1) * width * 3)
  }
  const ihdr = Buffer.alloc(13)
  ihdr.writeUInt32BE(width, 0)
  ihdr.writeUInt32BE(height, 4)
  ihdr[8] = 8 // bit depth
  ihdr[9] = 2 // colour type RGB
  return Buffer.concat([
    Buffer.from([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a]),
    pngChunk('IHDR', ihdr),
    pngChunk('IDAT', deflateSync(raw, { level: 1 })),
    pngChunk('IEND', Buffer.alloc(0))
  ])
}

function renderReport (c: Corpus, image: Buffer | undefined): Promise<Buffer> {
  return renderPdf({ size: 'A4', margin: 56, info: { Title: c.title, Author: 'DocuMind load test' } }, (doc) => {
    doc.addPage()
    doc.fontSize(18).text(c.title)
    doc.moveDown()
    doc.fontSize(11)
    for (const p of c.paragraphs) {
      doc.text(p, { align: 'left' })
      doc.moveDown(0.5)
    }
    if (image !== undefined) {
      doc.addPage()
      doc.fontSize(11).text('Figure 1: site survey scan.')
      doc.image(image, { fit: [480, 640] })
    }
  })
}

/**
 * The report of corpus(seed) as a PDF, padded to about `targetBytes` (within 1 %, or the size of
 * the text alone if that is already larger).
 */
export async function makeReportPdf (seed: number, targetBytes?: number): Promise<Buffer> {
  const c = corpus(seed)
  const plain = await renderReport(c, undefined)
  if (targetBytes === undefined || targetBytes <= plain.length + 2048) return plain
  let imageBytes = targetBytes - plain.length - 1024
  let pdf = await renderReport(c, noisePng(imageBytes))
  // One correction pass for the container overhead.
  if (Math.abs(pdf.length - targetBytes) > targetBytes * 0.01) {
    imageBytes = Math.max(1, imageBytes + (targetBytes - pdf.length))
    pdf = await renderReport(c, noisePng(imageBytes))
  }
  return pdf
}

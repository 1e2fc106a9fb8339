/**
 * Hostile PDFs built in the test, each small on disk and huge (or slow) once decoded, in the shapes
 * an attacker varies: filters given indirectly or under other names, dictionaries that mislead a
 * reader of the raw bytes, many streams each small enough to pass a per-stream limit, filter chains,
 * LZW and predictors, fonts, object streams, and one stream decoded again and again.
 * Nothing here is committed as a binary: every file is generated (in well under a second).
 */
import { deflateSync } from 'node:zlib'
import { buildRawPdf } from './pdf-fixtures.js'

const MiB = 1024 * 1024
const TEXT = 'BT /F1 12 Tf 72 720 Td (boom) Tj ET\n'
const HELVETICA = '<< /Type /Font /Subtype /Type1 /BaseFont /Helvetica /Encoding /WinAnsiEncoding >>'

/** `bytes` of content-stream text (a text operator, then spaces), Flate-compressed at level 9 (~1000:1). */
function flateText (bytes: number, text = TEXT): Buffer {
  const head = Buffer.from(text, 'latin1')
  return deflateSync(Buffer.concat([head, Buffer.alloc(Math.max(0, bytes - head.length), 0x20)]), { level: 9 })
}

function stream (dict: string, data: Buffer): Buffer {
  return Buffer.concat([Buffer.from(`<< ${dict} /Length ${data.length} >>\nstream\n`, 'latin1'), data, Buffer.from('\nendstream', 'latin1')])
}

/** One page (object 3) over a page tree (2) and catalog (1); `rest` are objects 4.. (4 is the content by default). */
function onePage (rest: Array<string | Buffer>, { contents = '4 0 R', resources = `<< /Font << /F1 ${rest.length + 4} 0 R >> >>` } = {}): Buffer {
  return buildRawPdf([
    '<< /Type /Catalog /Pages 2 0 R >>',
    '<< /Type /Pages /Kids [3 0 R] /Count 1 >>',
    `<< /Type /Page /Parent 2 0 R /MediaBox [0 0 612 792] /Resources ${resources} /Contents ${contents} >>`,
    ...rest,
    HELVETICA
  ])
}

/**
 * LZW (PDF flavour: 9-12 bit codes, early change 1, a clear code before the table fills) of `count`
 * copies of `byte`. A run is the best case of LZW: the k-th code of a table stands for k bytes, so
 * ~3,800 codes (~5.7 KB) stand for ~7 MB before the table is cleared and it starts again.
 */
export function lzwRun (byte: number, count: number): Buffer {
  const out: number[] = []
  let acc = 0
  let accBits = 0
  let codeLength = 9
  const emit = (code: number): void => {
    acc = (acc << codeLength) | code
    accBits += codeLength
    while (accBits >= 8) {
      out.push((acc >>> (accBits - 8)) & 0xff)
      accBits -= 8
    }
    acc &= (1 << accBits) - 1
  }
  emit(256)
  let next = 258
  let k = 1 // length of the run the next code stands for
  let remaining = count
  while (remaining > 0) {
    const length = Math.min(k, remaining)
    emit(length === 1 ? byte : 258 + length - 2)
    remaining -= length
    if (remaining === 0) break
    // The encoder adds "this run + one more byte" as the next table entry.
    next++
    k++
    if (next + 1 > (1 << codeLength) && codeLength < 12) codeLength++
    if (next >= 4094) {
      emit(256)
      next = 258
      k = 1
      codeLength = 9
    }
  }
  emit(257)
  if (accBits > 0) out.push((acc << (8 - accBits)) & 0xff)
  return Buffer.from(out)
}

export interface HostilePdf {
  name: string
  /** What a reader of the raw bytes would have to get right to see the danger. */
  trick: string
  data: Buffer
}

/**
 * Files whose streams decode to about `decodedBytes` in total (default 1 GiB), built several ways.
 * `decodedBytes` must be well above the decode budget under test.
 */
export function hostilePdfs (decodedBytes = 1024 * MiB): HostilePdf[] {
  const bomb = flateText(decodedBytes)
  const pdfs: HostilePdf[] = []
  const add = (name: string, trick: string, data: Buffer): void => { pdfs.push({ name, trick, data }) }

  add('flate-content', 'a plain FlateDecode content stream', onePage([stream('/Filter /FlateDecode', bomb)]))

  add('indirect-filter', 'the filter name and the length are indirect objects', onePage([
    Buffer.concat([Buffer.from('<< /Filter 5 0 R /Length 6 0 R >>\nstream\n', 'latin1'), bomb, Buffer.from('\nendstream', 'latin1')]),
    '/FlateDecode',
    String(bomb.length)
  ], { resources: '<< /Font << /F1 7 0 R >> >>' }))

  add('indirect-filter-array', 'the filter array is an indirect object holding an abbreviated name', onePage([
    Buffer.concat([Buffer.from(`<< /Length ${bomb.length} /Filter 5 0 R >>\nstream\n`, 'latin1'), bomb, Buffer.from('\nendstream', 'latin1')]),
    '[ /Fl ]'
  ], { resources: '<< /Font << /F1 6 0 R >> >>' }))

  add('misleading-keys', 'the dictionary says /Subtype /Image in a nested dictionary and a string, and names a harmless /Filter there too', onePage([
    stream('/Meta << /Subtype /Image /Filter /ASCIIHexDecode >> /Note (/Subtype /Image stream) /Filter /FlateDecode', bomb)
  ]))

  add('far-dictionary', 'the filter sits before 64 KiB of padding inside the stream dictionary', onePage([
    stream(`/Filter /FlateDecode /Pad (${'x'.repeat(64 * 1024)})`, bomb)
  ]))

  // Many streams, each 1/64 of the total: under any per-stream limit, over any sane total.
  const parts = 64
  const part = flateText(Math.ceil(decodedBytes / parts))
  add('many-streams', `${parts} content streams of one page, each decoding to 1/${parts} of the total`, buildRawPdf([
    '<< /Type /Catalog /Pages 2 0 R >>',
    '<< /Type /Pages /Kids [3 0 R] /Count 1 >>',
    `<< /Type /Page /Parent 2 0 R /MediaBox [0 0 612 792] /Resources << /Font << /F1 4 0 R >> >> /Contents [${Array.from({ length: parts }, (_, i) => `${i + 5} 0 R`).join(' ')}] >>`,
    HELVETICA,
    ...Array.from({ length: parts }, () => stream('/Filter /FlateDecode', part))
  ]))

  // One modest stream drawn as a form XObject many times: decoded again at every use.
  const uses = 256
  const form = flateText(Math.ceil(decodedBytes / uses))
  add('repeated-form', `a form XObject decoding to 1/${uses} of the total, drawn ${uses} times`, onePage([
    Buffer.from(`<< /Length ${'/X0 Do\n'.length * uses} >>\nstream\n${'/X0 Do\n'.repeat(uses)}\nendstream`, 'latin1'),
    stream('/Type /XObject /Subtype /Form /BBox [0 0 612 792] /Resources << /Font << /F1 6 0 R >> >> /Filter /FlateDecode', form)
  ], { resources: '<< /Font << /F1 6 0 R >> /XObject << /X0 5 0 R >> >>' }))

  const hex = Buffer.from(bomb.toString('hex') + '>', 'latin1')
  add('hex-then-flate', 'Flate wrapped in ASCIIHexDecode', onePage([stream('/Filter [/ASCIIHexDecode /FlateDecode]', hex)]))

  add('flate-twice', 'Flate of Flate (each layer ~1000:1, so the file is tiny)', onePage([
    stream('/Filter [/FlateDecode /FlateDecode]', deflateSync(bomb, { level: 9 }))
  ]))

  // LZW: ~1,300:1 on a run of spaces; the text is in a second, plain content stream.
  const lzwBytes = Math.min(decodedBytes, 256 * MiB)
  add('lzw', `an LZWDecode content stream of ${lzwBytes / MiB} MiB of spaces after a plain one with the text`, onePage([
    stream('', Buffer.from(TEXT, 'latin1')),
    stream('/Filter /LZWDecode', lzwRun(0x20, lzwBytes))
  ], { contents: '[4 0 R 5 0 R]' }))

  add('predictor', 'Flate with a TIFF predictor (a second decoder on top)', onePage([
    stream('', Buffer.from(TEXT, 'latin1')),
    stream('/Filter /FlateDecode /DecodeParms << /Predictor 2 /Columns 1024 /Colors 1 /BitsPerComponent 8 >>', bomb)
  ], { contents: '[4 0 R 5 0 R]' }))

  add('font-file', 'the bomb is the embedded font program of the font the page uses', buildRawPdf([
    '<< /Type /Catalog /Pages 2 0 R >>',
    '<< /Type /Pages /Kids [3 0 R] /Count 1 >>',
    '<< /Type /Page /Parent 2 0 R /MediaBox [0 0 612 792] /Resources << /Font << /F1 5 0 R >> >> /Contents 4 0 R >>',
    stream('', Buffer.from(TEXT, 'latin1')),
    '<< /Type /Font /Subtype /TrueType /BaseFont /Bomb /FirstChar 32 /LastChar 126 /Widths [] /FontDescriptor 6 0 R >>',
    '<< /Type /FontDescriptor /FontName /Bomb /Flags 32 /FontBBox [0 0 1000 1000] /ItalicAngle 0 /Ascent 800 /Descent -200 /CapHeight 700 /StemV 80 /FontFile2 7 0 R >>',
    stream('/Filter /FlateDecode', bomb)
  ]))

  add('object-stream', 'the page and its content reference sit in a compressed object stream, behind an xref stream', objectStreamBomb(bomb))
  return pdfs
}

/**
 * Catalog, page tree and page stored in a Flate object stream (named through an xref stream), the
 * page's content the bomb. A raw-bytes reader sees no page dictionary at all.
 */
function objectStreamBomb (bomb: Buffer): Buffer {
  const objects = [
    '<< /Type /Catalog /Pages 2 0 R >>',
    '<< /Type /Pages /Kids [3 0 R] /Count 1 >>',
    '<< /Type /Page /Parent 2 0 R /MediaBox [0 0 612 792] /Resources << /Font << /F1 5 0 R >> >> /Contents 6 0 R >>',
    HELVETICA.replace('<<', '<< ')
  ]
  // Objects 1, 2, 3 and 5 inside object stream 4.
  const numbers = [1, 2, 3, 5]
  let header = ''
  let body = ''
  objects.forEach((obj, i) => {
    header += `${numbers[i]} ${body.length} `
    body += obj + '\n'
  })
  const objStm = deflateSync(Buffer.from(header + body, 'latin1'))
  const chunks: Buffer[] = [Buffer.from('%PDF-1.7\n%\xe2\xe3\xcf\xd3\n', 'latin1')]
  let offset = chunks[0]!.length
  const offsets = new Map<number, number>()
  const put = (num: number, content: Buffer): void => {
    offsets.set(num, offset)
    const chunk = Buffer.concat([Buffer.from(`${num} 0 obj\n`, 'latin1'), content, Buffer.from('\nendobj\n', 'latin1')])
    chunks.push(chunk)
    offset += chunk.length
  }
  put(4, stream(`/Type /ObjStm /N ${objects.length} /First ${header.length} /Filter /FlateDecode`, objStm))
  put(6, stream('/Filter /FlateDecode', bomb))
  // Xref stream (object 7), W [1 4 2]: type 0 free, 1 in file (offset), 2 in object stream (stream, index).
  const rows: Buffer[] = []
  const row = (type: number, field2: number, field3: number): void => {
    const b = Buffer.alloc(7)
    b.writeUInt8(type, 0)
    b.writeUInt32BE(field2, 1)
    b.writeUInt16BE(field3, 5)
    rows.push(b)
  }
  const xrefAt = offset
  row(0, 0, 0xffff)
  row(2, 4, 0)
  row(2, 4, 1)
  row(2, 4, 2)
  row(1, offsets.get(4)!, 0)
  row(2, 4, 3)
  row(1, offsets.get(6)!, 0)
  row(1, xrefAt, 0)
  const xrefData = deflateSync(Buffer.concat(rows))
  chunks.push(Buffer.concat([
    Buffer.from('7 0 obj\n', 'latin1'),
    stream('/Type /XRef /Size 8 /W [1 4 2] /Root 1 0 R /Filter /FlateDecode', xrefData),
    Buffer.from(`\nendobj\nstartxref\n${xrefAt}\n%%EOF\n`, 'latin1')
  ]))
  return Buffer.concat(chunks)
}

/**
 * A PDF that decodes nothing and stays small but takes minutes to read: an uncompressed form XObject
 * of `formBytes` of graphics operators, drawn `uses` times (pdf.js parses a form again at each use).
 * Only the extraction timeout bounds it.
 */
export function slowPdf ({ formBytes = 1024 * 1024, uses = 20_000 } = {}): Buffer {
  // A form with text: pdf.js skips a form it has seen to be empty of text.
  const op = '1 0 0 1 0 0 cm\n'
  const form = Buffer.from(TEXT + op.repeat(Math.ceil(formBytes / op.length)), 'latin1')
  const draws = `${TEXT}${'/X0 Do\n'.repeat(uses)}`
  return onePage([
    stream('', Buffer.from(draws, 'latin1')),
    stream('/Type /XObject /Subtype /Form /BBox [0 0 612 792] /Resources << /Font << /F1 6 0 R >> >>', form)
  ], { resources: '<< /Font << /F1 6 0 R >> /XObject << /X0 5 0 R >> >>' })
}

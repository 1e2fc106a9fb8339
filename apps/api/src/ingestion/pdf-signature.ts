/**
 * Content-based file type check, replacing python-magic/libmagic in the upload route.
 *
 * A file is a PDF when `%PDF-` occurs within its first 1024 bytes (the tolerance Acrobat
 * and pdf.js apply), unless the file starts with the
 * magic number of another well-known format (e.g. a ZIP that stores a PDF uncompressed
 * has `%PDF-` at offset ~40 but is a ZIP, as libmagic would say).
 *
 * For everything else `sniffMimeType` returns a libmagic-style MIME type, used in the
 * upload's rejection message `Invalid file type: <mime>. Only PDF files are allowed.`
 */

export const PDF_MIME = 'application/pdf'
/** `%PDF-` may start anywhere in the first 1024 bytes. */
export const PDF_HEADER_WINDOW = 1024
/** How many leading bytes `sniffMimeType` looks at (it never needs more). */
export const SNIFF_BYTES = 8192

const PDF_MAGIC = Buffer.from('%PDF-', 'latin1')

interface Magic {
  offset: number
  bytes: Buffer
  mime: string | ((head: Buffer) => string)
}

const ascii = (s: string): Buffer => Buffer.from(s, 'latin1')

function zipMime (head: Buffer): string {
  // OpenDocument / EPUB: first entry named `mimetype`, stored, containing the MIME type.
  if (head.toString('latin1', 30, 38) === 'mimetype') {
    const rest = head.toString('latin1', 38, 38 + 80)
    const m = /^application\/[a-z0-9.+-]+/.exec(rest)
    if (m) return m[0]
  }
  const text = head.toString('latin1')
  if (text.includes('[Content_Types].xml') || /(?:word|xl|ppt)\//.test(text)) {
    if (text.includes('word/')) return 'application/vnd.openxmlformats-officedocument.wordprocessingml.document'
    if (text.includes('xl/')) return 'application/vnd.openxmlformats-officedocument.spreadsheetml.sheet'
    if (text.includes('ppt/')) return 'application/vnd.openxmlformats-officedocument.presentationml.presentation'
  }
  return 'application/zip'
}

function riffMime (head: Buffer): string {
  switch (head.toString('latin1', 8, 12)) {
    case 'WEBP': return 'image/webp'
    case 'WAVE': return 'audio/x-wav'
    case 'AVI ': return 'video/x-msvideo'
    default: return 'application/octet-stream'
  }
}

function isoBmffMime (head: Buffer): string {
  const brand = head.toString('latin1', 8, 12)
  if (brand === 'qt  ') return 'video/quicktime'
  if (brand === 'M4A ') return 'audio/x-m4a'
  if (['heic', 'heix', 'mif1', 'msf1'].includes(brand)) return 'image/heic'
  if (brand === 'avif') return 'image/avif'
  return 'video/mp4'
}

const MAGICS: Magic[] = [
  { offset: 0, bytes: Buffer.from([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a]), mime: 'image/png' },
  { offset: 0, bytes: Buffer.from([0xff, 0xd8, 0xff]), mime: 'image/jpeg' },
  { offset: 0, bytes: ascii('GIF87a'), mime: 'image/gif' },
  { offset: 0, bytes: ascii('GIF89a'), mime: 'image/gif' },
  { offset: 0, bytes: ascii('II*\0'), mime: 'image/tiff' },
  { offset: 0, bytes: ascii('MM\0*'), mime: 'image/tiff' },
  { offset: 0, bytes: ascii('RIFF'), mime: riffMime },
  { offset: 4, bytes: ascii('ftyp'), mime: isoBmffMime },
  { offset: 0, bytes: ascii('PK\x03\x04'), mime: zipMime },
  { offset: 0, bytes: ascii('PK\x05\x06'), mime: 'application/zip' },
  { offset: 0, bytes: Buffer.from([0x1f, 0x8b]), mime: 'application/gzip' },
  { offset: 0, bytes: ascii('BZh'), mime: 'application/x-bzip2' },
  { offset: 0, bytes: Buffer.from([0xfd, 0x37, 0x7a, 0x58, 0x5a, 0x00]), mime: 'application/x-xz' },
  { offset: 0, bytes: Buffer.from([0x37, 0x7a, 0xbc, 0xaf, 0x27, 0x1c]), mime: 'application/x-7z-compressed' },
  { offset: 0, bytes: ascii('Rar!\x1a\x07'), mime: 'application/x-rar' },
  { offset: 257, bytes: ascii('ustar'), mime: 'application/x-tar' },
  { offset: 0, bytes: Buffer.from([0xd0, 0xcf, 0x11, 0xe0, 0xa1, 0xb1, 0x1a, 0xe1]), mime: 'application/x-ole-storage' },
  { offset: 0, bytes: ascii('{\\rtf'), mime: 'text/rtf' },
  { offset: 0, bytes: ascii('%!PS'), mime: 'application/postscript' },
  { offset: 0, bytes: ascii('%FDF-'), mime: 'application/vnd.fdf' },
  { offset: 0, bytes: ascii('\x7fELF'), mime: 'application/x-executable' },
  { offset: 0, bytes: ascii('MZ'), mime: 'application/x-dosexec' },
  { offset: 0, bytes: ascii('\0asm'), mime: 'application/wasm' },
  { offset: 0, bytes: ascii('SQLite format 3\0'), mime: 'application/vnd.sqlite3' },
  { offset: 0, bytes: ascii('OggS'), mime: 'audio/ogg' },
  { offset: 0, bytes: ascii('fLaC'), mime: 'audio/flac' },
  { offset: 0, bytes: ascii('ID3'), mime: 'audio/mpeg' },
  { offset: 0, bytes: Buffer.from([0x1a, 0x45, 0xdf, 0xa3]), mime: (h) => (h.includes('webm', 0, 'latin1') ? 'video/webm' : 'video/x-matroska') },
  { offset: 0, bytes: ascii('wOFF'), mime: 'font/woff' },
  { offset: 0, bytes: ascii('wOF2'), mime: 'font/woff2' }
]

function view (data: Uint8Array, length: number): Buffer {
  return Buffer.from(data.buffer, data.byteOffset, Math.min(data.byteLength, length))
}

/** Offset of `%PDF-` within the first `window` bytes, or -1. */
export function findPdfHeader (data: Uint8Array, window: number = PDF_HEADER_WINDOW): number {
  // The whole marker must start inside the window; look a few bytes past it to see it complete.
  return view(data, window + PDF_MAGIC.length - 1).indexOf(PDF_MAGIC)
}

function matchMagic (head: Buffer): string | undefined {
  for (const m of MAGICS) {
    if (head.length >= m.offset + m.bytes.length && head.subarray(m.offset, m.offset + m.bytes.length).equals(m.bytes)) {
      return typeof m.mime === 'function' ? m.mime(head) : m.mime
    }
  }
  return undefined
}

/** Decode as UTF-8 (tolerating a character cut at the end of the sample); undefined if binary. */
function decodeText (head: Buffer, complete: boolean): string | undefined {
  let text: string
  try {
    // `stream: true` keeps an incomplete trailing sequence pending instead of failing.
    text = new TextDecoder('utf-8', { fatal: true }).decode(head, { stream: !complete })
  } catch {
    return undefined
  }
  // Text may contain TAB, LF, VT, FF, CR and ESC; any other C0 control or DEL means binary.
  // eslint-disable-next-line no-control-regex
  if (/[\u0000-\u0008\u000e-\u001a\u001c-\u001f\u007f]/.test(text)) return undefined
  return text
}

function textMime (text: string, whole: Uint8Array, complete: boolean): string {
  const t = text.replace(/^\uFEFF/, '').trimStart()
  const lower = t.slice(0, 512).toLowerCase()
  if (lower.startsWith('<?xml')) return /<svg[\s>]/.test(lower) ? 'image/svg+xml' : 'text/xml'
  if (lower.startsWith('<svg')) return 'image/svg+xml'
  if (lower.startsWith('<!doctype html') || lower.startsWith('<html') || lower.startsWith('<head') || lower.startsWith('<body')) return 'text/html'
  if ((t.startsWith('{') || t.startsWith('[')) && complete) {
    try {
      JSON.parse(Buffer.from(whole.buffer, whole.byteOffset, whole.byteLength).toString('utf8'))
      return 'application/json'
    } catch {
      // not JSON: plain text
    }
  }
  return 'text/plain'
}

/**
 * Best-effort MIME type of `data` from its content (libmagic-like names).
 * Returns `application/pdf` for PDFs, `application/x-empty` for empty input and
 * `application/octet-stream` for unrecognised binary data.
 */
export function sniffMimeType (data: Uint8Array): string {
  if (data.byteLength === 0) return 'application/x-empty'
  const head = view(data, SNIFF_BYTES)
  const at = findPdfHeader(data)
  if (at === 0) return PDF_MIME
  const magic = matchMagic(head)
  if (magic !== undefined) return magic
  if (at > 0) return PDF_MIME

  // UTF-16 with BOM is text for libmagic too.
  if ((head[0] === 0xff && head[1] === 0xfe) || (head[0] === 0xfe && head[1] === 0xff)) return 'text/plain'
  const complete = data.byteLength <= SNIFF_BYTES
  const text = decodeText(head, complete)
  if (text === undefined) return 'application/octet-stream'
  return textMime(text, data, complete)
}

export function isPdf (data: Uint8Array): boolean {
  return sniffMimeType(data) === PDF_MIME
}

/** The upload's rejection message, worded as clients expect it. */
export function invalidFileTypeMessage (mime: string): string {
  return `Invalid file type: ${mime}. Only PDF files are allowed.`
}

export type PdfSignatureCheck =
  | { ok: true, mime: typeof PDF_MIME }
  | { ok: false, mime: string, message: string }

/** Check an upload's content: `{ ok: true }` for PDFs, else the detected type and the rejection message. */
export function checkPdfSignature (data: Uint8Array): PdfSignatureCheck {
  const mime = sniffMimeType(data)
  if (mime === PDF_MIME) return { ok: true, mime: PDF_MIME }
  return { ok: false, mime, message: invalidFileTypeMessage(mime) }
}

import { describe, expect, it } from 'vitest'
import {
  checkPdfSignature,
  findPdfHeader,
  invalidFileTypeMessage,
  isPdf,
  sniffMimeType
} from '../../src/ingestion/pdf-signature.js'
import { makeCorruptPdf, makePdf } from '../helpers/pdf-fixtures.js'

const bytes = (...parts: Array<string | number[] | Buffer>): Buffer =>
  Buffer.concat(parts.map((p) => (typeof p === 'string' ? Buffer.from(p, 'latin1') : Buffer.from(p))))

describe('PDF signature', () => {
  it('recognises a real PDF', async () => {
    const pdf = await makePdf({ pages: ['hello'] })
    expect(sniffMimeType(pdf)).toBe('application/pdf')
    expect(isPdf(pdf)).toBe(true)
    expect(checkPdfSignature(pdf)).toEqual({ ok: true, mime: 'application/pdf' })
  })

  it('accepts %PDF- anywhere in the first 1024 bytes', () => {
    expect(findPdfHeader(bytes('%PDF-1.4'))).toBe(0)
    expect(isPdf(bytes('\xef\xbb\xbf%PDF-1.7\n'))).toBe(true) // UTF-8 BOM
    expect(isPdf(bytes('junk junk\n%PDF-1.7\n'))).toBe(true)
    expect(isPdf(bytes(' '.repeat(1019), '%PDF-1.7'))).toBe(true) // starts at offset 1019, ends past 1024
    expect(findPdfHeader(bytes(' '.repeat(1019), '%PDF-1.7'))).toBe(1019)
    expect(isPdf(bytes(' '.repeat(1020), '%PDF-1.7'))).toBe(true) // last allowed start offset is 1023
    expect(isPdf(bytes(' '.repeat(1023), '%PDF-'))).toBe(true)
    expect(isPdf(bytes(' '.repeat(1024), '%PDF-1.7'))).toBe(false)
    expect(sniffMimeType(bytes(' '.repeat(1024), '%PDF-1.7'))).toBe('text/plain')
  })

  it('treats a corrupt PDF with a valid header as a PDF (the parser rejects it later)', () => {
    expect(isPdf(makeCorruptPdf())).toBe(true)
  })

  it('does not accept %PDF without the dash, or lowercase', () => {
    expect(isPdf(bytes('%PDF1.7'))).toBe(false)
    expect(isPdf(bytes('%pdf-1.7'))).toBe(false)
  })

  it.each([
    ['PNG', bytes([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a], '\0\0\0\rIHDR'), 'image/png'],
    ['JPEG', bytes([0xff, 0xd8, 0xff, 0xe0], '\0\x10JFIF'), 'image/jpeg'],
    ['GIF', bytes('GIF89a\x01\0\x01\0'), 'image/gif'],
    ['WebP', bytes('RIFF\x24\0\0\0WEBPVP8 '), 'image/webp'],
    ['WAV', bytes('RIFF\x24\0\0\0WAVEfmt '), 'audio/x-wav'],
    ['MP4', bytes('\0\0\0\x18ftypisom\0\0\0\0'), 'video/mp4'],
    ['TIFF', bytes('II*\0\x08\0\0\0'), 'image/tiff'],
    ['ZIP', bytes('PK\x03\x04\x14\0\0\0\x08\0', 'x'.repeat(20), 'notes.txt'), 'application/zip'],
    ['empty ZIP', bytes('PK\x05\x06', '\0'.repeat(18)), 'application/zip'],
    ['DOCX', bytes('PK\x03\x04\x14\0\x06\0\x08\0', '\0'.repeat(20), '[Content_Types].xml', '...word/document.xml'), 'application/vnd.openxmlformats-officedocument.wordprocessingml.document'],
    ['EPUB', bytes('PK\x03\x04\x0a\0\0\0\0\0', '\0'.repeat(16), '\x08\0\0\0', 'mimetypeapplication/epub+zip'), 'application/epub+zip'],
    ['gzip', bytes([0x1f, 0x8b, 0x08, 0x00]), 'application/gzip'],
    ['7z', bytes([0x37, 0x7a, 0xbc, 0xaf, 0x27, 0x1c, 0x00, 0x04]), 'application/x-7z-compressed'],
    ['RAR', bytes('Rar!\x1a\x07\x01\0'), 'application/x-rar'],
    ['OLE (doc/xls)', bytes([0xd0, 0xcf, 0x11, 0xe0, 0xa1, 0xb1, 0x1a, 0xe1]), 'application/x-ole-storage'],
    ['RTF', bytes('{\\rtf1\\ansi hello}'), 'text/rtf'],
    ['PostScript', bytes('%!PS-Adobe-3.0\n'), 'application/postscript'],
    ['ELF', bytes('\x7fELF\x02\x01\x01'), 'application/x-executable'],
    ['EXE', bytes('MZ\x90\0\x03\0'), 'application/x-dosexec'],
    ['SQLite', bytes('SQLite format 3\0'), 'application/vnd.sqlite3'],
    ['MP3', bytes('ID3\x04\0\0\0\0\0\0'), 'audio/mpeg'],
    ['Ogg', bytes('OggS\0\x02'), 'audio/ogg'],
    ['plain text', bytes('Just some notes.\nSecond line.\n'), 'text/plain'],
    ['UTF-8 text', Buffer.from('Grüße aus Köln — 日本語のテキスト\n', 'utf8'), 'text/plain'],
    ['UTF-16 text', Buffer.from('\ufeffhello', 'utf16le'), 'text/plain'],
    ['JSON', bytes('{"a": [1, 2, 3]}\n'), 'application/json'],
    ['almost JSON', bytes('{ not json at all'), 'text/plain'],
    ['HTML', bytes('<!DOCTYPE html>\n<html><body>hi</body></html>'), 'text/html'],
    ['XML', bytes('<?xml version="1.0"?><root/>'), 'text/xml'],
    ['SVG', bytes('<?xml version="1.0"?>\n<svg xmlns="http://www.w3.org/2000/svg"></svg>'), 'image/svg+xml'],
    ['binary', bytes([0x00, 0x01, 0x02, 0x03, 0xfe, 0xfd, 0x10, 0x00]), 'application/octet-stream'],
    ['empty', bytes(''), 'application/x-empty']
  ])('%s -> %s', (_name, data, mime) => {
    expect(sniffMimeType(data)).toBe(mime)
    expect(isPdf(data)).toBe(false)
  })

  it('prefers a leading magic number over an embedded %PDF- (PDF stored in a ZIP)', async () => {
    const pdf = await makePdf({ pages: ['inside a zip'] })
    const zip = bytes('PK\x03\x04\x0a\0\0\0\0\0', '\0'.repeat(16), '\x08\0\0\0', 'file.pdf', pdf)
    expect(findPdfHeader(zip)).toBeGreaterThan(0)
    expect(sniffMimeType(zip)).toBe('application/zip')
  })

  it('sniffs large text files from their head only, tolerating a character cut at the boundary', () => {
    const text = Buffer.from('é'.repeat(10_000), 'utf8') // 2 bytes per char: the 8192-byte sample ends on a boundary
    expect(sniffMimeType(text)).toBe('text/plain')
    const odd = Buffer.concat([Buffer.from('a'), Buffer.from('é'.repeat(10_000), 'utf8')]) // sample ends mid-character
    expect(sniffMimeType(odd)).toBe('text/plain')
    const big = Buffer.from(`[${'1,'.repeat(10_000)}1]`) // valid JSON but larger than the sample
    expect(sniffMimeType(big)).toBe('text/plain')
  })

  it('builds the rejection message', () => {
    expect(invalidFileTypeMessage('text/plain')).toBe('Invalid file type: text/plain. Only PDF files are allowed.')
    expect(checkPdfSignature(bytes('hello'))).toEqual({
      ok: false,
      mime: 'text/plain',
      message: 'Invalid file type: text/plain. Only PDF files are allowed.'
    })
    expect(checkPdfSignature(bytes(''))).toMatchObject({ ok: false, mime: 'application/x-empty' })
  })

  it('works on Uint8Array views with an offset', () => {
    const backing = bytes('xxxxPNG?', '%PDF-1.7 rest')
    const viewOfPdf = new Uint8Array(backing.buffer, backing.byteOffset + 8, backing.byteLength - 8)
    expect(isPdf(viewOfPdf)).toBe(true)
  })
})

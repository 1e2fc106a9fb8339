import { randomBytes } from 'node:crypto'
import type { InjectOptions } from 'fastify'
import pg from 'pg'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { buildGroqTestApp, type GroqTestApp } from '../helpers/app.js'
import { NO_RATE_LIMITS, runHostileCase, signUp, type HostileCase, type SignedUpUser as User } from '../helpers/bad-input.js'
import { multipart as pdfForm } from '../helpers/documents.js'
import {
  makeCorruptPdf, makeEncryptedPdf, makePdf, makePdfBomb, makeTextlessPdf, makeTruncatedPdf, makeZeroPagePdf
} from '../helpers/pdf-fixtures.js'
import { hostilePdfs, type HostilePdf } from '../helpers/hostile-pdfs.js'
import { multipart as audioForm, wavWithTranscript } from '../helpers/voice.js'

// Multipart abuse, hostile PDFs and hostile audio against /upload, /transcribe, /voice-query and
// /speak (with the Groq mock as speech engine, so every route runs for real): each is refused with a
// JSON 4xx or a 200 {success:false} soft failure, no 5xx, and no table changes.

let t: GroqTestApp
let db: pg.Pool
let carol: User
let gone: User
const MiB = 1024 * 1024

const as = (user: () => User, options: InjectOptions): InjectOptions => ({ ...options, headers: { authorization: `Bearer ${user().token}`, ...options.headers } })
const asCarol = (options: InjectOptions): InjectOptions => as(() => carol, options)

/** A raw multipart request: parts given as already-encoded strings/buffers between boundaries. */
function rawMultipart (url: string, parts: Array<string | Buffer>, options: { boundary?: string, close?: boolean } = {}): InjectOptions {
  const boundary = options.boundary ?? `----hostile${randomBytes(6).toString('hex')}`
  const chunks: Buffer[] = []
  for (const part of parts) chunks.push(Buffer.from(`--${boundary}\r\n`), Buffer.isBuffer(part) ? part : Buffer.from(part), Buffer.from('\r\n'))
  if (options.close !== false) chunks.push(Buffer.from(`--${boundary}--\r\n`))
  return asCarol({ method: 'POST', url, headers: { 'content-type': `multipart/form-data; boundary=${boundary}` }, payload: Buffer.concat(chunks) })
}

function filePart (field: string, filename: string, data: Buffer, contentType = 'application/pdf'): Buffer {
  return Buffer.concat([Buffer.from(`Content-Disposition: form-data; name="${field}"; filename="${filename}"\r\nContent-Type: ${contentType}\r\n\r\n`), data])
}

async function upload (filename: string, data: Buffer | Promise<Buffer>): Promise<InjectOptions> {
  const form = pdfForm({ filename, data: await data })
  return asCarol({ method: 'POST', url: '/upload', headers: form.headers, payload: form.payload })
}

// Bombs are built once in beforeAll (a few seconds of deflating), outside the cases' timeouts.
let bombs: HostilePdf[] = []
let classicBomb: Buffer
const hostile = (): HostilePdf[] => bombs

const CORRUPT = 'This PDF is corrupt or incomplete and could not be read. Please check the file and upload it again.'
const manyFields = (n: number): Record<string, string> => Object.fromEntries(Array.from({ length: n }, (_, i) => [`f${i}`, 'v']))

const cases: HostileCase[] = [
  // ---- multipart abuse on /upload
  { name: 'upload: multipart without a boundary', status: 400, message: 'Malformed multipart body', request: () => asCarol({ method: 'POST', url: '/upload', headers: { 'content-type': 'multipart/form-data' }, payload: 'garbage' }) },
  { name: 'upload: body cut off inside the file', status: 400, message: 'Malformed multipart body', request: () => rawMultipart('/upload', [filePart('file', 'cut.pdf', Buffer.from('%PDF-1.4 half a file'))], { close: false }) },
  { name: 'upload: garbage without any boundary line', status: 400, message: 'Malformed multipart body', request: () => asCarol({ method: 'POST', url: '/upload', headers: { 'content-type': 'multipart/form-data; boundary=xyz' }, payload: 'no boundary here at all' }) },
  { name: 'upload: empty multipart body', status: 200, message: 'No file uploaded', request: () => asCarol({ method: 'POST', url: '/upload', headers: { 'content-type': 'multipart/form-data; boundary=xyz' }, payload: '' }) },
  { name: 'upload: 1000 text fields before the file', status: 413, request: async () => { const form = pdfForm({ filename: 'a.pdf', data: await makePdf({ pages: ['Fields.'] }) }, manyFields(1000)); return asCarol({ method: 'POST', url: '/upload', headers: form.headers, payload: form.payload }) } },
  { name: 'upload: the file under the wrong field name', status: 200, message: 'No file uploaded', request: async () => { const form = pdfForm({ field: 'document', filename: 'a.pdf', data: await makePdf({ pages: ['Wrong field.'] }) }); return asCarol({ method: 'POST', url: '/upload', headers: form.headers, payload: form.payload }) } },
  { name: 'upload: two files (the first one corrupt)', status: 200, message: CORRUPT, request: async () => rawMultipart('/upload', [filePart('file', 'one.pdf', makeCorruptPdf(256)), filePart('file', 'two.pdf', await makePdf({ pages: ['Second file.'] }))]) },
  { name: 'upload: empty filename', status: 200, message: 'No file selected', request: () => upload('', makePdf({ pages: ['No name.'] })) },
  { name: 'upload: .PDF in upper case', status: 200, message: 'Only PDF files are allowed', request: () => upload('REPORT.PDF', makePdf({ pages: ['Upper case.'] })) },
  { name: 'upload: double extension .pdf.exe', status: 200, message: 'Only PDF files are allowed', request: () => upload('invoice.pdf.exe', makePdf({ pages: ['Exe.'] })) },
  { name: 'upload: traversal filename with PNG bytes', status: 400, message: /^Invalid file type: image\/png/, request: () => upload('../../../etc/passwd.pdf', Buffer.from('89504e470d0a1a0a0000000d49484452', 'hex')) },
  { name: 'upload: part header of 200 KB (filename cut, so not a .pdf)', status: 200, message: 'Only PDF files are allowed', request: () => rawMultipart('/upload', [Buffer.concat([Buffer.from(`Content-Disposition: form-data; name="file"; filename="${'h'.repeat(200 * 1024)}.pdf"\r\nContent-Type: application/pdf\r\n\r\n`), makeCorruptPdf(64)])]) },
  { name: 'upload: 30 file parts (only the first is read)', status: 200, message: CORRUPT, request: () => rawMultipart('/upload', Array.from({ length: 30 }, (_, i) => filePart('file', `p${i}.pdf`, makeCorruptPdf(32)))) },
  // Not multipart at all: no file, so "No file uploaded", not a 415 (docs/migrating-from-flask.md).
  { name: 'upload: a raw PDF body (application/pdf)', status: 200, message: 'No file uploaded', request: async () => asCarol({ method: 'POST', url: '/upload', headers: { 'content-type': 'application/pdf' }, payload: await makePdf({ pages: ['Raw body.'] }) }) },
  { name: 'upload: raw bytes as application/octet-stream', status: 200, message: 'No file uploaded', request: () => asCarol({ method: 'POST', url: '/upload', headers: { 'content-type': 'application/octet-stream' }, payload: randomBytes(4096) }) },
  { name: 'upload: a raw body without a content type', status: 200, message: 'No file uploaded', request: () => asCarol({ method: 'POST', url: '/upload', payload: Buffer.from('%PDF-1.4 no content type') }) },
  { name: 'upload: 2 MiB of text/plain (over the JSON routes\' body limit)', status: 200, message: 'No file uploaded', request: () => asCarol({ method: 'POST', url: '/upload', headers: { 'content-type': 'text/plain' }, payload: 'x'.repeat(2 * MiB) }) },
  { name: 'upload: a JSON body', status: 200, message: 'No file uploaded', request: () => asCarol({ method: 'POST', url: '/upload', payload: { file: 'JVBERi0xLjQ=' } }) },
  { name: 'upload: multipart/mixed instead of form-data', status: 200, message: 'No file uploaded', request: () => asCarol({ method: 'POST', url: '/upload', headers: { 'content-type': 'multipart/mixed; boundary=xyz' }, payload: '--xyz\r\n\r\nx\r\n--xyz--\r\n' }) },
  { name: 'upload: a raw body over the 50 MiB cap', status: 413, message: 'Request body too large.', request: () => asCarol({ method: 'POST', url: '/upload', headers: { 'content-type': 'application/pdf' }, payload: Buffer.alloc(50 * MiB + 1, 0x20) }) },

  // ---- hostile PDFs
  { name: 'pdf: corrupt (header then garbage)', status: 200, message: CORRUPT, request: () => upload('corrupt.pdf', makeCorruptPdf()) },
  { name: 'pdf: truncated in the middle', status: 200, message: CORRUPT, request: () => upload('truncated.pdf', makeTruncatedPdf()) },
  { name: 'pdf: password-protected', status: 200, message: /password-protected/, request: () => upload('encrypted.pdf', makeEncryptedPdf()) },
  { name: 'pdf: zero pages', status: 200, message: 'No content extracted from PDF', request: () => upload('zero.pdf', makeZeroPagePdf()) },
  { name: 'pdf: drawings only, no text', status: 200, message: 'No content extracted from PDF', request: () => upload('textless.pdf', makeTextlessPdf()) },
  { name: 'pdf: decompression bomb (512 MiB inflated)', status: 200, message: /too large or complex/, request: () => upload('bomb.pdf', classicBomb) },
  // The shapes a reader of the raw bytes gets wrong; each decodes to 1 GiB (helpers/hostile-pdfs.ts).
  ...['indirect-filter', 'misleading-keys', 'many-streams', 'repeated-form', 'lzw', 'font-file', 'object-stream'].map((variant): HostileCase => ({
    name: `pdf: decompression bomb built as ${variant}`,
    status: 200,
    message: 'This PDF is too large or complex to process. Please split it into smaller files.',
    request: () => upload(`${variant}.pdf`, hostile().find((pdf) => pdf.name === variant)!.data)
  })),
  { name: 'pdf: empty file', status: 400, message: /^Invalid file type/, request: () => upload('empty.pdf', Buffer.alloc(0)) },
  { name: 'pdf: HTML with a %PDF marker inside', status: 200, message: CORRUPT, request: () => upload('page.pdf', Buffer.from('<html><body>%PDF-1.4 not really</body></html>')) },
  { name: 'pdf: 10 MiB + 1 byte', status: 413, message: /Beta users can upload files up to 10MB/, request: () => upload('big.pdf', Buffer.concat([Buffer.from('%PDF-1.4\n'), Buffer.alloc(10 * MiB + 1 - 9, 0x20)])) },
  { name: 'pdf: request over the 50 MiB cap', status: 413, message: 'File too large. Maximum file size is 50MB.', request: () => upload('huge.pdf', Buffer.concat([Buffer.from('%PDF-1.4\n'), Buffer.alloc(51 * MiB, 0x20)])) },

  // ---- /transcribe and /voice-query
  { name: 'transcribe: multipart without a boundary', status: 400, message: 'Malformed multipart body', request: () => asCarol({ method: 'POST', url: '/transcribe', headers: { 'content-type': 'multipart/form-data' }, payload: 'x' }) },
  { name: 'transcribe: two audio files', status: 413, request: () => rawMultipart('/transcribe', [filePart('audio', 'a.wav', wavWithTranscript('one'), 'audio/wav'), filePart('audio', 'b.wav', wavWithTranscript('two'), 'audio/wav')]) },
  { name: 'transcribe: audio under the wrong field name', status: 200, message: 'No audio file provided', request: () => { const f = audioForm({}, [{ field: 'file', filename: 'a.wav', bytes: wavWithTranscript('hi') }]); return asCarol({ method: 'POST', url: '/transcribe', headers: f.headers, payload: f.payload }) } },
  { name: 'transcribe: empty audio file', status: 200, message: 'The audio file is empty', request: () => { const f = audioForm({}, [{ field: 'audio', filename: 'a.wav', bytes: Buffer.alloc(0) }]); return asCarol({ method: 'POST', url: '/transcribe', headers: f.headers, payload: f.payload }) } },
  { name: 'transcribe: empty filename', status: 200, message: 'No file selected', request: () => { const f = audioForm({}, [{ field: 'audio', filename: '', bytes: wavWithTranscript('hi') }]); return asCarol({ method: 'POST', url: '/transcribe', headers: f.headers, payload: f.payload }) } },
  { name: 'transcribe: audio over 25 MB', status: 413, message: 'Audio file too large. Maximum size is 25MB.', request: () => { const f = audioForm({}, [{ field: 'audio', filename: 'a.wav', bytes: Buffer.alloc(25 * MiB + 1) }]); return asCarol({ method: 'POST', url: '/transcribe', headers: f.headers, payload: f.payload }) } },
  { name: 'transcribe: 1000 text fields', status: 413, request: () => { const f = audioForm(manyFields(1000), [{ field: 'audio', filename: 'a.wav', bytes: wavWithTranscript('hi') }]); return asCarol({ method: 'POST', url: '/transcribe', headers: f.headers, payload: f.payload }) } },
  { name: 'transcribe: JSON instead of multipart', status: 200, message: 'No audio file provided', request: () => asCarol({ method: 'POST', url: '/transcribe', payload: { audio: 'UklGRg==' } }) },
  { name: 'transcribe: without a token', status: 401, message: 'No authorization header', request: () => { const f = audioForm({}, [{ field: 'audio', filename: 'a.wav', bytes: wavWithTranscript('hi') }]); return { method: 'POST', url: '/transcribe', headers: f.headers, payload: f.payload } } },
  { name: 'voice-query: JSON instead of multipart', status: 200, message: 'No audio file provided', request: () => asCarol({ method: 'POST', url: '/voice-query', payload: { question: 'hi' } }) },
  { name: 'transcribe: a raw WAV body (audio/wav)', status: 200, message: 'No audio file provided', request: () => asCarol({ method: 'POST', url: '/transcribe', headers: { 'content-type': 'audio/wav' }, payload: wavWithTranscript('raw') }) },
  { name: 'voice-query: a raw body as application/octet-stream', status: 200, message: 'No audio file provided', request: () => asCarol({ method: 'POST', url: '/voice-query', headers: { 'content-type': 'application/octet-stream' }, payload: wavWithTranscript('raw') }) },
  { name: 'voice-query: multipart body cut off', status: 400, message: 'Malformed multipart body', request: () => rawMultipart('/voice-query', [filePart('audio', 'a.wav', wavWithTranscript('cut'), 'audio/wav')], { close: false }) },
  { name: 'voice-query: audio that transcribes to nothing', status: 200, message: 'Could not transcribe audio', request: () => { const f = audioForm({}, [{ field: 'audio', filename: 'a.wav', bytes: wavWithTranscript('') }]); return asCarol({ method: 'POST', url: '/voice-query', headers: f.headers, payload: f.payload }) } },
  { name: 'voice-query: a user without documents', status: 200, message: /^Please upload at least one PDF/, request: () => { const f = audioForm({ language: "en'; --" }, [{ field: 'audio', filename: '../../x.wav', bytes: wavWithTranscript('What is this?') }]); return asCarol({ method: 'POST', url: '/voice-query', headers: f.headers, payload: f.payload }) } },

  // ---- /speak and deleted users on the speech routes
  { name: 'speak: text is an array', status: 400, request: () => asCarol({ method: 'POST', url: '/speak', payload: { text: ['a', 'b'] } }) },
  { name: 'speak: body is a JSON string', status: 400, request: () => asCarol({ method: 'POST', url: '/speak', headers: { 'content-type': 'application/json' }, payload: '"hello"' }) },
  { name: 'speak: deleted user', status: 404, message: 'User not found', request: () => as(() => gone, { method: 'POST', url: '/speak', payload: { text: 'Speak for a ghost.' } }) },
  { name: 'upload: deleted user', status: 200, message: 'User not found', request: async () => { const form = pdfForm({ filename: 'ghost.pdf', data: await makePdf({ pages: ['Ghost.'] }) }); return as(() => gone, { method: 'POST', url: '/upload', headers: form.headers, payload: form.payload }) } }
]

describe('hostile uploads and voice requests', () => {
  beforeAll(async () => {
    bombs = hostilePdfs(1024 * MiB)
    classicBomb = makePdfBomb()
    t = await buildGroqTestApp({ label: 'bad_uploads', env: { ...NO_RATE_LIMITS, ESPEAK_NG_PATH: '' } })
    db = new pg.Pool({ connectionString: t.databaseUrl, max: 2 })
    carol = await signUp(t.app, 'carol@example.com')
    gone = await signUp(t.app, 'gone@example.com')
    const deleted = await t.app.inject({ method: 'DELETE', url: '/auth/delete-account', headers: { authorization: `Bearer ${gone.token}` }, payload: { password: 'secret12', confirmation: 'DELETE' } })
    expect(deleted.statusCode).toBe(200)
  }, 120_000)

  afterAll(async () => {
    await db?.end()
    await t?.close()
  })

  it(`has its cases (${cases.length})`, () => {
    expect(new Set(cases.map((c) => c.name)).size).toBe(cases.length)
  })

  for (const c of cases) {
    it(c.name, { timeout: 20_000 }, async () => {
      await runHostileCase(t.app, db, c)
    })
  }

  it('still answers /health and accepts a normal upload after the suite', async () => {
    expect((await t.app.inject({ url: '/health/ready' })).statusCode).toBe(200)
    const res = await t.app.inject(await upload('fine.pdf', makePdf({ pages: ['A perfectly normal document.'] })))
    expect(res.json()).toMatchObject({ success: true, message: 'Successfully added fine' })
  })
})

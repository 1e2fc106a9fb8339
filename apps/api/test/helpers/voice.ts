import { createHash } from 'node:crypto'
import { chmod, mkdtemp, writeFile } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import type { FastifyInstance } from 'fastify'
import { formData, type FormFile } from './form-data.js'

// Shared by the voice, audio, feedback and stats tests.

export { createUser, type TestUser } from './users.js'

export type FilePart = Omit<FormFile, 'contentType'> & { contentType?: string }

/** A multipart/form-data body for inject(); files are audio/wav unless they say otherwise. */
export function multipart (fields: Record<string, string>, files: FilePart[] = []): { payload: Buffer, headers: Record<string, string> } {
  return formData(fields, files.map((file) => ({ ...file, contentType: file.contentType ?? 'audio/wav' })))
}

/** A small valid WAV (16 kHz mono, 16-bit) whose trailing chunk carries the mock's transcript marker. */
export function wavWithTranscript (text: string, seconds = 0.5): Buffer {
  const sampleRate = 16000
  const dataSize = Math.round(sampleRate * seconds) * 2
  const note = Buffer.from(`TRANSCRIPT:${text}\0`)
  const listSize = note.length + (note.length % 2)
  const buf = Buffer.alloc(44 + dataSize + 8 + listSize)
  buf.write('RIFF', 0, 'ascii')
  buf.writeUInt32LE(buf.length - 8, 4)
  buf.write('WAVE', 8, 'ascii')
  buf.write('fmt ', 12, 'ascii')
  buf.writeUInt32LE(16, 16)
  buf.writeUInt16LE(1, 20)
  buf.writeUInt16LE(1, 22)
  buf.writeUInt32LE(sampleRate, 24)
  buf.writeUInt32LE(sampleRate * 2, 28)
  buf.writeUInt16LE(2, 32)
  buf.writeUInt16LE(16, 34)
  buf.write('data', 36, 'ascii')
  buf.writeUInt32LE(dataSize, 40)
  for (let i = 0; i < dataSize / 2; i++) buf.writeInt16LE(Math.round(Math.sin(i / 8) * 8000), 44 + i * 2)
  buf.write('note', 44 + dataSize, 'ascii')
  buf.writeUInt32LE(note.length, 48 + dataSize)
  note.copy(buf, 52 + dataSize)
  return buf
}

/**
 * A stand-in espeak-ng: answers --version, and for `-v <voice> -w <file> --stdin` writes a WAV
 * holding the voice and the text it read, so tests can see exactly what the service asked for.
 * Text containing FAIL makes it exit with status 2.
 */
export async function fakeEspeak (): Promise<string> {
  const dir = await mkdtemp(join(tmpdir(), 'fake-espeak-'))
  const path = join(dir, 'espeak-ng')
  await writeFile(path, `#!/usr/bin/env node
const args = process.argv.slice(2)
if (args.includes('--version')) {
  console.log('eSpeak NG text-to-speech: 1.51-fake  Data at: /fake')
  process.exit(0)
}
const out = args[args.indexOf('-w') + 1]
const voice = args[args.indexOf('-v') + 1]
let text = ''
process.stdin.setEncoding('utf8')
process.stdin.on('data', (chunk) => { text += chunk })
process.stdin.on('end', () => {
  if (text.includes('FAIL')) {
    process.stderr.write('synthesis failed')
    process.exit(2)
  }
  const note = Buffer.from('VOICE:' + voice + ' ARGS:' + args.join(' ') + ' TRANSCRIPT:' + text + '\\0')
  const dataSize = 22050 * 2
  const buf = Buffer.alloc(44 + dataSize + 8 + note.length + (note.length % 2))
  buf.write('RIFF', 0, 'ascii'); buf.writeUInt32LE(buf.length - 8, 4); buf.write('WAVE', 8, 'ascii')
  buf.write('fmt ', 12, 'ascii'); buf.writeUInt32LE(16, 16); buf.writeUInt16LE(1, 20); buf.writeUInt16LE(1, 22)
  buf.writeUInt32LE(22050, 24); buf.writeUInt32LE(44100, 28); buf.writeUInt16LE(2, 32); buf.writeUInt16LE(16, 34)
  buf.write('data', 36, 'ascii'); buf.writeUInt32LE(dataSize, 40)
  buf.write('note', 44 + dataSize, 'ascii'); buf.writeUInt32LE(note.length, 48 + dataSize); note.copy(buf, 52 + dataSize)
  require('node:fs').writeFileSync(out, buf)
})
`)
  await chmod(path, 0o755)
  return path
}

/** Polls until `check` resolves truthy, as the UI polls HEAD /audio. */
export async function waitFor<T> (check: () => Promise<T | undefined | false>, timeoutMs = 10_000): Promise<T> {
  const deadline = Date.now() + timeoutMs
  for (;;) {
    const value = await check()
    if (value !== undefined && value !== false) return value
    if (Date.now() > deadline) throw new Error('condition not met in time')
    await new Promise((resolve) => setTimeout(resolve, 50))
  }
}

/** A ready document with one chunk per page, stored through the documents repository (no PDF parsing). */
export async function addDocument (app: FastifyInstance, userId: string, name: string, pages: string[]): Promise<void> {
  const data = Buffer.from(`%PDF-1.4 ${name}`)
  const result = await app.documentsRepository.save({
    userId,
    name,
    filename: `${name}.pdf`,
    data,
    sha256: createHash('sha256').update(data).digest(),
    pages: pages.length,
    chunks: pages.map((text, i) => ({ index: i, page: i + 1, pageEnd: i + 1, text, wordCount: text.split(/\s+/).length })),
    maxDocuments: 100
  })
  if (!result.ok) throw new Error(`document not saved: ${result.reason}`)
}

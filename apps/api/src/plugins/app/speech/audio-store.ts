import { createHash, randomBytes } from 'node:crypto'
import fp from 'fastify-plugin'
import type pg from 'pg'

declare module 'fastify' {
  interface FastifyInstance {
    audioStore: AudioStore
  }
}

/**
 * /audio is public (the React app's <audio> and fetch carry no token), so names are the only guard:
 * 128 random bits each, and anything not shaped like one of our names is refused before a query.
 */
export const AUDIO_FILENAME_RE = /^[a-z][a-z0-9]*(?:_[a-z0-9]+)*\.(?:wav|mp3|ogg|flac)$/
const MAX_FILENAME_LENGTH = 128

const CONTENT_TYPES: Record<string, string> = {
  wav: 'audio/wav',
  mp3: 'audio/mpeg',
  ogg: 'audio/ogg',
  flac: 'audio/flac'
}

export function isAudioFilename (name: string): boolean {
  return name.length <= MAX_FILENAME_LENGTH && AUDIO_FILENAME_RE.test(name)
}

export function contentTypeFor (filename: string): string {
  const ext = filename.slice(filename.lastIndexOf('.') + 1)
  return CONTENT_TYPES[ext] ?? 'application/octet-stream'
}

/** An unguessable id for a new file name. */
export function newAudioId (): string {
  return randomBytes(16).toString('hex')
}

export interface AudioMeta {
  filename: string
  contentType: string
  size: number
  etag: string
  createdAt: Date
}

interface MetaRow {
  filename: string
  content_type: string
  byte_size: number
  etag: string
  created_at: Date
}

function toMeta (row: MetaRow): AudioMeta {
  return { filename: row.filename, contentType: row.content_type, size: row.byte_size, etag: row.etag, createdAt: row.created_at }
}

/** Generated audio in Postgres, so whichever worker gets the request can serve it; expired rows read as missing. */
export class AudioStore {
  constructor (private readonly pool: pg.Pool, private readonly ttlHours: number) {}

  async save (file: { userId: string, filename: string, bytes: Buffer }): Promise<AudioMeta> {
    if (!isAudioFilename(file.filename)) throw new Error(`invalid audio file name: ${file.filename}`)
    const etag = `"${createHash('sha256').update(file.bytes).digest('base64url').slice(0, 27)}"`
    const { rows } = await this.pool.query<MetaRow>(
      `INSERT INTO audio_files (filename, user_id, content_type, byte_size, etag, bytes) VALUES ($1, $2, $3, $4, $5, $6)
       ON CONFLICT (filename) DO UPDATE SET content_type = EXCLUDED.content_type, byte_size = EXCLUDED.byte_size,
         etag = EXCLUDED.etag, bytes = EXCLUDED.bytes, created_at = now()
       WHERE audio_files.user_id = EXCLUDED.user_id
       RETURNING filename, content_type, byte_size, etag, created_at`,
      [file.filename, file.userId, contentTypeFor(file.filename), file.bytes.length, etag, file.bytes]
    )
    const row = rows[0]
    if (row === undefined) throw new Error(`audio file name already belongs to another user: ${file.filename}`)
    return toMeta(row)
  }

  /** Metadata only: HEAD polls and conditional requests never load the bytes. */
  async meta (filename: string): Promise<AudioMeta | undefined> {
    if (!isAudioFilename(filename)) return undefined
    const { rows } = await this.pool.query<MetaRow>({
      name: 'audio-meta',
      text: `SELECT filename, content_type, byte_size, etag, created_at FROM audio_files
       WHERE filename = $1 AND created_at > now() - $2 * interval '1 hour'`,
      values: [filename, this.ttlHours]
    })
    return rows[0] === undefined ? undefined : toMeta(rows[0])
  }

  /** Bytes [start, end] inclusive; undefined if the file went away meanwhile. */
  async read (filename: string, start: number, end: number): Promise<Buffer | undefined> {
    const { rows } = await this.pool.query<{ chunk: Buffer }>(
      `SELECT substring(bytes FROM $2 FOR $3) AS chunk FROM audio_files
       WHERE filename = $1 AND created_at > now() - $4 * interval '1 hour'`,
      [filename, start + 1, end - start + 1, this.ttlHours]
    )
    return rows[0]?.chunk
  }

  /** Deletes expired files; returns how many. */
  async sweep (): Promise<number> {
    const res = await this.pool.query('DELETE FROM audio_files WHERE created_at <= now() - $1 * interval \'1 hour\'', [this.ttlHours])
    return res.rowCount ?? 0
  }
}

/** How often expired audio is deleted; reads already treat it as gone, so this only bounds table growth. */
const SWEEP_INTERVAL_MS = 15 * 60 * 1000

export default fp<{ ttlHours: number }>(async (fastify, opts) => {
  const store = new AudioStore(fastify.pg, opts.ttlHours)
  fastify.decorate('audioStore', store)

  const sweep = async () => {
    try {
      const removed = await store.sweep()
      if (removed > 0) fastify.log.info({ removed }, 'expired audio files deleted')
    } catch (err) {
      fastify.log.warn({ err }, 'audio sweep failed')
    }
  }
  await sweep()
  // sweep() never rejects: it logs its own failures.
  const timer = setInterval(() => { sweep().catch(() => {}) }, SWEEP_INTERVAL_MS)
  timer.unref()
  fastify.addHook('onClose', async () => clearInterval(timer))
}, { name: 'audio-store', dependencies: ['pg'] })

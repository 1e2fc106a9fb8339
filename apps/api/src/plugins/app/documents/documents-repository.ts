import fp from 'fastify-plugin'
import type pg from 'pg'
import type { TextChunk } from '../../../ingestion/chunker.js'

declare module 'fastify' {
  interface FastifyInstance {
    documentsRepository: DocumentsRepository
  }
}

export interface DocumentListItem {
  id: string
  name: string
  filename: string
  bytes: number
  pages: number
  total_chunks: number
  text_chunks: number
  table_chunks: number
  image_chunks: number
  category: string
  tags: string[]
  description: string | null
  uploaded_at: string
}

/** A `documents` row as the document routes return it (with the column names clients read as aliases). */
export interface DocumentRecord {
  id: string
  name: string
  filename: string
  file_size: number
  page_count: number
  chunk_count: number
  status: string
  processed: boolean
  error_message: string | null
  category: string
  tags: string[]
  description: string | null
  uploaded_at: string
  created_at: string
}

export interface DocumentRef {
  id: string
  name: string
}

export interface DocumentsSnapshot {
  refs: DocumentRef[]
  /** Changes with every upload, replacement or deletion of the user's documents. */
  version: string
}

export interface NewDocument {
  userId: string
  name: string
  filename: string
  data: Buffer
  sha256: Buffer
  pages: number
  chunks: readonly TextChunk[]
  /** Re-checked inside the transaction, so concurrent uploads cannot pass the limit together. */
  maxDocuments: number
}

/** A document before its text is known (see `DocumentsRepository.open`). */
export type NewDocumentHeader = Omit<NewDocument, 'pages' | 'chunks'>

export type OpenResult =
  | { ok: true, writer: DocumentWriter }
  | { ok: false, reason: 'limit', current: number }
  | { ok: false, reason: 'user_gone' }

export type SaveResult =
  | { ok: true, documentId: string, replaced: boolean }
  | { ok: false, reason: 'limit', current: number }
  | { ok: false, reason: 'user_gone' }

export interface RetrievedChunk {
  documentId: string
  chunkIndex: number
  page: number
  pageEnd: number
  content: string
  /** ts_rank_cd normalised to 0..1 (rank / (rank + 1)); 0 for chunks not found by the text search. */
  rank: number
}

export interface MetadataUpdate {
  category?: string
  tags?: string[]
  description?: string
}

export interface SearchFilters {
  q?: string
  category?: string
  tags?: string[]
}

export interface CategoryRow {
  id: string
  name: string
  icon: string | null
  color: string | null
  description: string | null
  created_at: string
}

/** First key of our advisory locks (the second is the user): keeps them apart from other lock users. */
const DOCUMENTS_LOCK_NAMESPACE = 0x444f43

/** Rows per INSERT of chunks: bounds one statement, and the event-loop time pg spends encoding its ~1 MB of parameters. */
const CHUNK_BATCH = 200

const RECORD_COLUMNS = `d.id, d.name, d.filename, d.bytes::float8 AS file_size, d.pages AS page_count, d.chunk_count,
  d.status, d.status = 'ready' AS processed, d.error_message, d.category, d.tags, d.description,
  to_char(d.uploaded_at AT TIME ZONE 'utc', 'YYYY-MM-DD"T"HH24:MI:SS.US"Z"') AS uploaded_at,
  to_char(d.created_at AT TIME ZONE 'utc', 'YYYY-MM-DD"T"HH24:MI:SS.US"Z"') AS created_at`

/** Bumps the user's ($1) documents version; INSERT ... SELECT so a CTE can make it conditional. */
function bumpVersionSql (condition = ''): string {
  return `INSERT INTO user_document_versions AS v (user_id, version) SELECT $1::uuid, 1 ${condition}
    ON CONFLICT (user_id) DO UPDATE SET version = v.version + 1`
}

function escapeLike (text: string): string {
  return text.replace(/[\\%_]/g, (c) => `\\${c}`)
}

/** Every query is scoped by user_id: no method can reach another user's documents. */
/** The open transaction of one document being stored; see `DocumentsRepository.open`. */
export class DocumentWriter {
  #chunks = 0
  #done = false

  constructor (
    private readonly client: pg.PoolClient,
    readonly documentId: string,
    private readonly replaced: boolean
  ) {}

  /** Inserts chunks (their `index` runs on across calls), in multi-row statements. */
  async append (chunks: readonly TextChunk[]): Promise<void> {
    for (let start = 0; start < chunks.length; start += CHUNK_BATCH) {
      const batch = chunks.slice(start, start + CHUNK_BATCH)
      await this.client.query(
        `INSERT INTO document_chunks (document_id, chunk_index, page, page_end, content)
         SELECT $1, * FROM unnest($2::int[], $3::int[], $4::int[], $5::text[])`,
        [this.documentId, batch.map((c) => c.index), batch.map((c) => c.page), batch.map((c) => c.pageEnd), batch.map((c) => c.text)])
      this.#chunks += batch.length
    }
  }

  /** Sets the page and chunk counts and makes the document visible. */
  async commit (pages: number): Promise<{ ok: true, documentId: string, replaced: boolean }> {
    await this.client.query('UPDATE documents SET pages = $2, chunk_count = $3 WHERE id = $1', [this.documentId, pages, this.#chunks])
    await this.client.query('COMMIT')
    this.#release()
    return { ok: true, documentId: this.documentId, replaced: this.replaced }
  }

  /** Discards everything written. Idempotent, never throws. */
  async rollback (): Promise<void> {
    if (this.#done) return
    await this.client.query('ROLLBACK').catch(() => {})
    this.#release()
  }

  #release (): void {
    if (this.#done) return
    this.#done = true
    this.client.release()
  }
}

export class DocumentsRepository {
  constructor (private readonly pool: pg.Pool) {}

  async count (userId: string): Promise<number> {
    const { rows } = await this.pool.query<{ n: number }>(
      "SELECT count(*)::int AS n FROM documents WHERE user_id = $1 AND status = 'ready'", [userId])
    return rows[0]?.n ?? 0
  }

  /** In upload order, the order clients list them in. */
  async list (userId: string): Promise<DocumentListItem[]> {
    const { rows } = await this.pool.query<DocumentListItem>(
      `SELECT d.id, d.name, d.filename, d.bytes::float8 AS bytes, d.pages, d.chunk_count AS total_chunks,
         s.text_chunks, s.table_chunks, s.image_chunks, d.category, d.tags, d.description,
         to_char(d.uploaded_at AT TIME ZONE 'utc', 'YYYY-MM-DD"T"HH24:MI:SS.US"Z"') AS uploaded_at
       FROM documents d
       CROSS JOIN LATERAL (
         SELECT count(*) FILTER (WHERE c.chunk_type = 'text')::int AS text_chunks,
                count(*) FILTER (WHERE c.chunk_type = 'table')::int AS table_chunks,
                count(*) FILTER (WHERE c.chunk_type = 'image')::int AS image_chunks
         FROM document_chunks c WHERE c.document_id = d.id
       ) s
       WHERE d.user_id = $1 AND d.status = 'ready'
       ORDER BY d.uploaded_at, d.id`,
      [userId])
    return rows
  }

  /** The user's document ids and names with their version, in one query (retrieval and the answer cache). */
  async snapshot (userId: string): Promise<DocumentsSnapshot> {
    const { rows } = await this.pool.query<{ version: string, refs: DocumentRef[] }>({
      name: 'documents-snapshot',
      text: `SELECT coalesce((SELECT version FROM user_document_versions WHERE user_id = $1), 0)::text AS version,
         coalesce((SELECT json_agg(json_build_object('id', d.id, 'name', d.name) ORDER BY d.uploaded_at, d.id)
                   FROM documents d WHERE d.user_id = $1 AND d.status = 'ready'), '[]'::json) AS refs`,
      values: [userId]
    })
    const row = rows[0]!
    return { refs: row.refs, version: row.version }
  }

  /**
   * Stores a document with its file and every chunk in ONE transaction, replacing the user's document
   * of the same name: readers see the old document or the complete new one, never a part.
   */
  async save (doc: NewDocument): Promise<SaveResult> {
    const opened = await this.open(doc)
    if (!opened.ok) return opened
    const { writer } = opened
    try {
      await writer.append(doc.chunks)
      return await writer.commit(doc.pages)
    } catch (err) {
      await writer.rollback()
      throw err
    }
  }

  /**
   * Starts storing a document whose chunks are still being produced (the upload pipeline inserts each
   * page batch while the next ones are extracted). Everything happens in one transaction that only
   * `commit` makes visible; `rollback` leaves nothing behind. Holds one pooled connection until then.
   */
  async open (doc: NewDocumentHeader): Promise<OpenResult> {
    const client = await this.pool.connect()
    try {
      await client.query('BEGIN')
      // Serialises one user's uploads, so the limit check and the replace-by-name cannot race. An advisory
      // lock rather than a row lock on users: the save can take seconds, and must not block logins or
      // other rows referencing the user. FOR KEY SHARE (what the foreign key takes anyway) holds off a
      // concurrent account deletion until the commit, which then cascades.
      await client.query('SELECT pg_advisory_xact_lock($1, hashtext($2))', [DOCUMENTS_LOCK_NAMESPACE, doc.userId])
      const user = await client.query('SELECT 1 FROM users WHERE id = $1 FOR KEY SHARE', [doc.userId])
      if (user.rowCount === 0) {
        await client.query('ROLLBACK')
        client.release()
        return { ok: false, reason: 'user_gone' }
      }
      const { rows: [others] } = await client.query<{ n: number }>(
        "SELECT count(*)::int AS n FROM documents WHERE user_id = $1 AND name <> $2 AND status = 'ready'",
        [doc.userId, doc.name])
      const current = others?.n ?? 0
      if (current >= doc.maxDocuments) {
        await client.query('ROLLBACK')
        client.release()
        return { ok: false, reason: 'limit', current }
      }
      const removed = await client.query('DELETE FROM documents WHERE user_id = $1 AND name = $2', [doc.userId, doc.name])
      await client.query(bumpVersionSql(), [doc.userId])
      // pages and chunk_count are set by commit, in the same transaction.
      const { rows: [inserted] } = await client.query<{ id: string }>(
        `INSERT INTO documents (user_id, name, filename, bytes, pages, sha256, status, chunk_count)
         VALUES ($1, $2, $3, $4, 0, $5, 'ready', 0) RETURNING id`,
        [doc.userId, doc.name, doc.filename, doc.data.length, doc.sha256])
      const documentId = inserted!.id
      await client.query('INSERT INTO document_files (document_id, data) VALUES ($1, $2)', [documentId, doc.data])
      return { ok: true, writer: new DocumentWriter(client, documentId, (removed.rowCount ?? 0) > 0) }
    } catch (err) {
      await client.query('ROLLBACK').catch(() => {})
      client.release()
      throw err
    }
  }

  /** Returns the number of chunks removed, or null when the user has no document of that name. */
  async deleteByName (userId: string, name: string): Promise<number | null> {
    // One statement: the version moves with the deletion, atomically.
    const { rows } = await this.pool.query<{ chunk_count: number }>(
      `WITH removed AS (DELETE FROM documents WHERE user_id = $1 AND name = $2 RETURNING chunk_count),
       bump AS (${bumpVersionSql('WHERE EXISTS (SELECT 1 FROM removed)')})
       SELECT chunk_count FROM removed`, [userId, name])
    return rows[0]?.chunk_count ?? null
  }

  /** Removes the caller's documents only, never another user's. Returns how many. */
  async deleteAll (userId: string): Promise<number> {
    const { rows } = await this.pool.query<{ n: number }>(
      `WITH removed AS (DELETE FROM documents WHERE user_id = $1 RETURNING 1),
       bump AS (${bumpVersionSql('WHERE EXISTS (SELECT 1 FROM removed)')})
       SELECT count(*)::int AS n FROM removed`, [userId])
    return rows[0]?.n ?? 0
  }

  async search (userId: string, filters: SearchFilters): Promise<DocumentRecord[]> {
    const where = ['d.user_id = $1', "d.status = 'ready'"]
    const params: unknown[] = [userId]
    if (filters.category !== undefined && filters.category !== '' && filters.category !== 'all') {
      params.push(filters.category)
      where.push(`d.category = $${params.length}`)
    }
    if (filters.tags !== undefined && filters.tags.length > 0) {
      params.push(filters.tags)
      where.push(`d.tags @> $${params.length}::text[]`)
    }
    if (filters.q !== undefined && filters.q !== '') {
      params.push(`%${escapeLike(filters.q)}%`)
      where.push(`(d.filename ILIKE $${params.length} OR d.name ILIKE $${params.length} OR d.description ILIKE $${params.length})`)
    }
    const { rows } = await this.pool.query<DocumentRecord>(
      `SELECT ${RECORD_COLUMNS} FROM documents d WHERE ${where.join(' AND ')} ORDER BY d.uploaded_at DESC, d.id`, params)
    return rows
  }

  async updateMetadata (userId: string, documentId: string, update: MetadataUpdate): Promise<'updated' | 'not_found' | 'invalid_category'> {
    const sets: string[] = []
    const params: unknown[] = [userId, documentId]
    const add = (column: string, value: unknown): void => {
      params.push(value)
      sets.push(`${column} = $${params.length}`)
    }
    if (update.category !== undefined) add('category', update.category)
    if (update.tags !== undefined) add('tags', update.tags)
    if (update.description !== undefined) add('description', update.description)
    sets.push('updated_at = now()')
    try {
      const res = await this.pool.query(`UPDATE documents SET ${sets.join(', ')} WHERE user_id = $1 AND id = $2`, params)
      return res.rowCount === 1 ? 'updated' : 'not_found'
    } catch (err) {
      if ((err as { code?: string }).code === '23503') return 'invalid_category'
      throw err
    }
  }

  async categories (): Promise<CategoryRow[]> {
    const { rows } = await this.pool.query<CategoryRow>(
      `SELECT id, name, icon, color, description,
         to_char(created_at AT TIME ZONE 'utc', 'YYYY-MM-DD"T"HH24:MI:SS.US"Z"') AS created_at
       FROM document_categories ORDER BY name`)
    return rows
  }

  /**
   * Full-text search over the given documents (ids the caller got from `refs` for its own user).
   * `query` is websearch syntax built by `searchQueries` (lib/answer-text.ts), all words or any of them:
   * never raw user text, whose size and operators PostgreSQL's tsquery parser may refuse.
   */
  async searchChunks (documentIds: readonly string[], query: string, limit: number): Promise<RetrievedChunk[]> {
    if (documentIds.length === 0) return []
    const { rows } = await this.pool.query<RetrievedChunk>(
      `SELECT c.document_id AS "documentId", c.chunk_index AS "chunkIndex", c.page, c.page_end AS "pageEnd", c.content,
         ts_rank_cd(c.tsv, q.query, 32)::float8 AS rank
       FROM document_chunks c, websearch_to_tsquery('english', $2) AS q(query)
       WHERE c.document_id = ANY($1::uuid[]) AND c.tsv @@ q.query
       ORDER BY rank DESC, c.document_id, c.chunk_index
       LIMIT $3`,
      [documentIds, query, limit])
    return rows
  }

  /** The first chunks of the documents, in reading order (for "what is this about?"-type questions). */
  async leadingChunks (documentIds: readonly string[], limit: number): Promise<RetrievedChunk[]> {
    if (documentIds.length === 0) return []
    const { rows } = await this.pool.query<RetrievedChunk>(
      `SELECT c.document_id AS "documentId", c.chunk_index AS "chunkIndex", c.page, c.page_end AS "pageEnd", c.content, 0::float8 AS rank
       FROM unnest($1::uuid[]) AS d(id)
       CROSS JOIN LATERAL (
         SELECT * FROM document_chunks c WHERE c.document_id = d.id ORDER BY c.chunk_index LIMIT $2
       ) c
       ORDER BY c.chunk_index, c.document_id
       LIMIT $2`,
      [documentIds, limit])
    return rows
  }
}

export default fp(async (fastify) => {
  fastify.decorate('documentsRepository', new DocumentsRepository(fastify.pg))
}, { name: 'documents-repository', dependencies: ['pg'] })

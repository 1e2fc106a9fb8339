import { request as httpRequest } from 'node:http'
import type { AddressInfo } from 'node:net'
import pg from 'pg'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { buildTestApp, type TestApp } from '../../helpers/app.js'
import { createUser, GENEROUS_RATE_LIMITS, multipart, THREE_TOPIC_PAGES, upload, type TestUser } from '../../helpers/documents.js'
import { makeCorruptPdf, makeEncryptedPdf, makeLargePdf, makePdf, makeTextlessPdf, makeTruncatedPdf } from '../../helpers/pdf-fixtures.js'

const MiB = 1024 * 1024

describe('documents', () => {
  let t: TestApp
  let db: pg.Pool
  let threePages: Buffer

  beforeAll(async () => {
    t = await buildTestApp({ label: 'documents', env: GENEROUS_RATE_LIMITS })
    db = new pg.Pool({ connectionString: t.databaseUrl })
    threePages = await makePdf({ pages: THREE_TOPIC_PAGES })
  })
  afterAll(async () => {
    await db.end()
    await t.close()
  })

  const list = async (user: TestUser) => {
    const res = await t.app.inject({ method: 'GET', url: '/documents', headers: user.headers })
    expect(res.statusCode).toBe(200)
    return res.json().documents as Array<Record<string, unknown>>
  }

  describe('POST /upload', () => {
    it('stores a multi-page PDF as page-aware chunks, its file and a ready documents row', async () => {
      const user = await createUser(t.app)
      const res = await upload(t.app, user, 'My Report (v2).pdf', threePages)
      expect(res.statusCode).toBe(200)
      expect(res.json()).toMatchObject({
        success: true,
        message: 'Successfully added My_Report_v2',
        statistics: { total_chunks: 3, text_chunks: 3, table_chunks: 0, image_chunks: 0 },
        document: { name: 'My_Report_v2', filename: 'My_Report_v2.pdf', pages: 3, bytes: threePages.length, replaced: false }
      })
      expect(await list(user)).toEqual([expect.objectContaining({
        name: 'My_Report_v2', total_chunks: 3, text_chunks: 3, table_chunks: 0, image_chunks: 0, pages: 3, category: 'general', tags: []
      })])
      const { rows: chunks } = await db.query(
        `SELECT c.page, c.content, c.tsv IS NOT NULL AS indexed FROM document_chunks c JOIN documents d ON d.id = c.document_id
         WHERE d.user_id = $1 ORDER BY c.chunk_index`, [user.id])
      expect(chunks.map((c) => c.page)).toEqual([1, 2, 3])
      expect(chunks[1].content).toContain('Krakatoa')
      expect(chunks.every((c) => c.indexed)).toBe(true)
      const { rows: [file] } = await db.query(
        'SELECT f.data, d.sha256, d.status FROM document_files f JOIN documents d ON d.id = f.document_id WHERE d.user_id = $1', [user.id])
      expect(Buffer.compare(file.data, threePages)).toBe(0)
      expect(file.status).toBe('ready')
      expect(file.sha256).toHaveLength(32)
    })

    it('answers the upload checks in order', async () => {
      const user = await createUser(t.app)
      const inject = async (body: ReturnType<typeof multipart>) =>
        await t.app.inject({ method: 'POST', url: '/upload', payload: body.payload, headers: { ...user.headers, ...body.headers } })

      expect((await inject(multipart(null, { note: 'no file' }))).json()).toEqual({ success: false, message: 'No file uploaded' })
      expect((await inject(multipart({ field: 'document', filename: 'a.pdf', data: threePages }))).json()).toEqual({ success: false, message: 'No file uploaded' })
      const notMultipart = await t.app.inject({ method: 'POST', url: '/upload', payload: { file: 'x' }, headers: user.headers })
      expect(notMultipart.statusCode).toBe(200)
      expect(notMultipart.json()).toEqual({ success: false, message: 'No file uploaded' })
      const empty = await inject(multipart({ filename: '', data: Buffer.alloc(0), contentType: 'application/octet-stream' }))
      expect(empty.statusCode).toBe(200)
      expect(empty.json()).toEqual({ success: false, message: 'No file selected' })
      for (const filename of ['report.PDF', 'report.pdf.txt', 'report']) {
        const res = await inject(multipart({ filename, data: threePages }))
        expect(res.statusCode).toBe(200)
        expect(res.json()).toEqual({ success: false, message: 'Only PDF files are allowed' })
      }
      const png = Buffer.concat([Buffer.from([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a]), Buffer.alloc(64)])
      const fake = await inject(multipart({ filename: 'photo.pdf', data: png }))
      expect(fake.statusCode).toBe(400)
      expect(fake.json()).toEqual({ success: false, message: 'Invalid file type: image/png. Only PDF files are allowed.' })
      expect(await list(user)).toEqual([])
    })

    it('rejects a file over 10 MiB with 413 and its real size, and accepts exactly 10 MiB of bytes as a size', async () => {
      const user = await createUser(t.app)
      const big = Buffer.concat([threePages, Buffer.alloc(11 * MiB - threePages.length, 0x20)])
      const res = await upload(t.app, user, 'huge scan.pdf', big)
      expect(res.statusCode).toBe(413)
      const message = "'huge scan.pdf' is 11.0MB. Beta users can upload files up to 10MB. Please compress or split your PDF."
      expect(res.json()).toEqual({
        success: false,
        message,
        file_too_large: true,
        limits: { allowed: false, size_mb: 11, limit_mb: 10, message }
      })
      // Exactly the limit is allowed (trailing padding after %%EOF is ignored by PDF readers).
      const exact = Buffer.concat([threePages, Buffer.alloc(10 * MiB - threePages.length, 0x20)])
      const ok = await upload(t.app, user, 'exact.pdf', exact)
      expect(ok.json()).toMatchObject({ success: true, message: 'Successfully added exact' })
    })

    it('answers the plain 413 beyond the 50 MiB request cap', async () => {
      const user = await createUser(t.app)
      const res = await upload(t.app, user, 'enormous.pdf', Buffer.alloc(51 * MiB, 0x25))
      expect(res.statusCode).toBe(413)
      expect(res.json()).toEqual({ success: false, message: 'File too large. Maximum file size is 50MB.' })
    })

    it('gives encrypted, corrupt, truncated and text-less PDFs a clear 200 message and stores nothing', async () => {
      const user = await createUser(t.app)
      const cases: Array<[string, Buffer, RegExp]> = [
        ['locked.pdf', await makeEncryptedPdf(), /password-protected/],
        ['corrupt.pdf', makeCorruptPdf(), /corrupt or incomplete/],
        ['truncated.pdf', await makeTruncatedPdf(), /corrupt or incomplete|No content extracted from PDF/],
        ['scan.pdf', await makeTextlessPdf(), /^No content extracted from PDF$/]
      ]
      for (const [filename, data, message] of cases) {
        const res = await upload(t.app, user, filename, data)
        expect(res.statusCode, filename).toBe(200)
        const body = res.json()
        expect(body.success, filename).toBe(false)
        expect(body.message, filename).toMatch(message)
      }
      expect(await list(user)).toEqual([])
      const { rows } = await db.query('SELECT count(*)::int AS n FROM documents WHERE user_id = $1', [user.id])
      expect(rows[0].n).toBe(0)
    })

    it('refuses the 6th document with 403, but replaces a re-uploaded name', async () => {
      const user = await createUser(t.app)
      for (const name of ['one', 'two', 'four', 'five']) {
        expect((await upload(t.app, user, `${name}.pdf`, threePages)).json().success).toBe(true)
      }
      const v1 = await makePdf({ pages: ['Version one talks about granite quarries.'] })
      const v2 = await makePdf({ pages: ['Version two talks about marble statues.', 'And a second page.'] })
      expect((await upload(t.app, user, 'three.pdf', v1)).json()).toMatchObject({ success: true, document: { replaced: false } })
      const { rows: [before] } = await db.query("SELECT id FROM documents WHERE user_id = $1 AND name = 'three'", [user.id])

      const refused = await upload(t.app, user, 'six.pdf', threePages)
      expect(refused.statusCode).toBe(403)
      const message = 'Document limit reached. Beta users can upload up to 5 documents. Please delete existing documents to upload new ones.'
      expect(refused.json()).toEqual({
        success: false, message, limit_reached: true, limits: { allowed: false, remaining: 0, limit: 5, current: 5, message }
      })

      // At the limit, the document-count check refuses even a replacement; below it, the same name replaces.
      await t.app.inject({ method: 'DELETE', url: '/documents/one', headers: user.headers })
      const replaced = await upload(t.app, user, 'three.pdf', v2)
      expect(replaced.json()).toMatchObject({ success: true, message: 'Successfully added three', statistics: { total_chunks: 2 }, document: { replaced: true, pages: 2 } })
      const docs = await list(user)
      expect(docs.map((d) => d.name)).toEqual(['two', 'four', 'five', 'three'])
      const { rows } = await db.query(
        "SELECT d.id, string_agg(c.content, ' ') AS text FROM documents d JOIN document_chunks c ON c.document_id = d.id WHERE d.user_id = $1 AND d.name = 'three' GROUP BY d.id", [user.id])
      expect(rows).toHaveLength(1)
      expect(rows[0].id).not.toBe(before.id)
      expect(rows[0].text).toContain('marble')
      expect(rows[0].text).not.toContain('granite')
      const { rows: orphans } = await db.query('SELECT count(*)::int AS n FROM document_chunks WHERE document_id = $1', [before.id])
      expect(orphans[0].n).toBe(0)
    })

    it('lets only one of two concurrent uploads take the last free slot', async () => {
      const user = await createUser(t.app)
      for (const name of ['a', 'b', 'c', 'd']) expect((await upload(t.app, user, `${name}.pdf`, threePages)).json().success).toBe(true)
      const results = await Promise.all([upload(t.app, user, 'x.pdf', threePages), upload(t.app, user, 'y.pdf', threePages)])
      expect(results.map((r) => r.statusCode).sort()).toEqual([200, 403])
      expect(results.find((r) => r.statusCode === 403)!.json().limits.current).toBe(5)
      expect(await list(user)).toHaveLength(5)
    })

    it('stores all chunks or none: a failing chunk rolls the whole document back', async () => {
      const user = await createUser(t.app)
      await expect(t.app.documentsRepository.save({
        userId: user.id,
        name: 'broken',
        filename: 'broken.pdf',
        data: threePages,
        sha256: Buffer.alloc(32),
        pages: 600,
        // Postgres refuses NUL in text: the 600th chunk (last batch) fails after earlier batches were inserted.
        chunks: Array.from({ length: 600 }, (_, i) => ({ index: i, page: i + 1, pageEnd: i + 1, text: i === 599 ? 'bad \u0000 chunk' : `chunk ${i}`, wordCount: 2 })),
        maxDocuments: 5
      })).rejects.toThrow()
      const { rows } = await db.query(
        'SELECT (SELECT count(*)::int FROM documents WHERE user_id = $1) AS docs, (SELECT count(*)::int FROM document_chunks c JOIN documents d ON d.id = c.document_id WHERE d.user_id = $1) AS chunks', [user.id])
      expect(rows[0]).toEqual({ docs: 0, chunks: 0 })
    })

    it('leaves no document when the client disconnects during ingestion', async () => {
      const user = await createUser(t.app)
      await t.app.listen({ port: 0, host: '127.0.0.1' })
      const { port } = t.app.server.address() as AddressInfo
      const { pdf } = await makeLargePdf(4 * MiB)
      const body = multipart({ filename: 'interrupted.pdf', data: pdf })
      await new Promise<void>((resolve) => {
        const req = httpRequest({ host: '127.0.0.1', port, method: 'POST', path: '/upload', headers: { ...user.headers, ...body.headers, 'content-length': String(body.payload.length) } })
        req.on('error', () => resolve())
        req.on('close', () => resolve())
        req.end(body.payload, () => {
          // The body is sent; the server is extracting. Hang up.
          setTimeout(() => req.destroy(), 300)
        })
      })
      // Wait until the extraction has ended (cancelled, or finished if cancelling failed) and the route settled.
      const deadline = Date.now() + 30_000
      while (t.app.ingestion.poolStats.inFlight > 0 && Date.now() < deadline) await new Promise((resolve) => setTimeout(resolve, 50))
      await new Promise((resolve) => setTimeout(resolve, 500))
      expect(t.app.ingestion.poolStats.inFlight).toBe(0)
      const { rows } = await db.query('SELECT count(*)::int AS n FROM documents WHERE user_id = $1', [user.id])
      expect(rows[0].n).toBe(0)
    })

    it('keeps every stored name addressable: 255-character names upload and delete, longer ones are refused', async () => {
      const user = await createUser(t.app, 'longname')
      const longest = `${'n'.repeat(251)}.pdf`
      expect((await upload(t.app, user, longest, threePages)).json()).toMatchObject({ success: true })
      const del = await t.app.inject({ method: 'DELETE', url: `/documents/${'n'.repeat(251)}`, headers: user.headers })
      expect(del.json()).toMatchObject({ success: true })
      const tooLong = await upload(t.app, user, `${'n'.repeat(252)}.pdf`, threePages)
      expect([tooLong.statusCode, tooLong.json()]).toEqual([200, { success: false, message: 'File name is too long (at most 255 characters)' }])
    })

    it('requires a token', async () => {
      const body = multipart({ filename: 'a.pdf', data: threePages })
      const res = await t.app.inject({ method: 'POST', url: '/upload', payload: body.payload, headers: body.headers })
      expect(res.statusCode).toBe(401)
      expect(res.json()).toEqual({ error: 'No authorization header' })
    })
  })

  describe('document routes', () => {
    let alice: TestUser
    let bob: TestUser

    beforeAll(async () => {
      alice = await createUser(t.app, 'alice')
      bob = await createUser(t.app, 'bob')
      expect((await upload(t.app, alice, 'alpha.pdf', threePages)).json().success).toBe(true)
      expect((await upload(t.app, alice, 'beta.pdf', threePages)).json().success).toBe(true)
      expect((await upload(t.app, bob, 'bobs.pdf', threePages)).json().success).toBe(true)
    })

    it('lists only the caller\'s documents, in upload order', async () => {
      expect((await list(alice)).map((d) => d.name)).toEqual(['alpha', 'beta'])
      expect((await list(bob)).map((d) => d.name)).toEqual(['bobs'])
    })

    it('keeps the same name of two users apart: an upload never replaces another user\'s document', async () => {
      const dave = await createUser(t.app, 'dave')
      const own = await makePdf({ pages: ['Dave writes about sailing boats.'] })
      expect((await upload(t.app, dave, 'alpha.pdf', own)).json()).toMatchObject({ success: true, document: { replaced: false } })
      const { rows } = await db.query(
        `SELECT d.user_id, string_agg(c.content, ' ') AS text FROM documents d JOIN document_chunks c ON c.document_id = d.id
         WHERE d.name = 'alpha' AND d.user_id = ANY($1::uuid[]) GROUP BY d.user_id`, [[alice.id, dave.id]])
      const byUser = new Map(rows.map((r) => [r.user_id, r.text]))
      expect(byUser.get(alice.id)).toContain('Krakatoa')
      expect(byUser.get(dave.id)).toContain('sailing')
      expect((await list(alice)).map((d) => d.name)).toEqual(['alpha', 'beta'])
    })

    it('deletes by name for the owner only, tolerating an empty JSON body', async () => {
      const tmp = await createUser(t.app)
      await upload(t.app, tmp, 'gone.pdf', threePages)
      const byBob = await t.app.inject({ method: 'DELETE', url: '/documents/gone', headers: bob.headers })
      expect(byBob.json()).toEqual({ success: false, message: 'Document not found' })
      expect((await list(tmp)).map((d) => d.name)).toEqual(['gone'])

      const res = await t.app.inject({ method: 'DELETE', url: '/documents/gone', headers: { ...tmp.headers, 'content-type': 'application/json' }, payload: '' })
      expect(res.statusCode).toBe(200)
      expect(res.json()).toEqual({ success: true, message: "Deleted 3 chunks from 'gone'" })
      expect(await list(tmp)).toEqual([])
      const again = await t.app.inject({ method: 'DELETE', url: '/documents/gone', headers: tmp.headers })
      expect(again.json()).toEqual({ success: false, message: 'Document not found' })
      const { rows } = await db.query('SELECT count(*)::int AS n FROM document_files f JOIN documents d ON d.id = f.document_id WHERE d.user_id = $1', [tmp.id])
      expect(rows[0].n).toBe(0)
    })

    it('clear-all removes the caller\'s documents only', async () => {
      const carol = await createUser(t.app, 'carol')
      await upload(t.app, carol, 'c1.pdf', threePages)
      await upload(t.app, carol, 'c2.pdf', threePages)
      const res = await t.app.inject({ method: 'POST', url: '/documents/clear-all', headers: { ...carol.headers, 'content-type': 'application/json' }, payload: '' })
      expect(res.json()).toEqual({ success: true, message: 'Cleared 2 documents from the system' })
      expect(await list(carol)).toEqual([])
      expect((await list(alice)).map((d) => d.name)).toEqual(['alpha', 'beta'])
      expect((await list(bob)).map((d) => d.name)).toEqual(['bobs'])
    })

    it('lists the seeded categories by name', async () => {
      const res = await t.app.inject({ method: 'GET', url: '/documents/categories', headers: alice.headers })
      expect(res.statusCode).toBe(200)
      const { categories } = res.json()
      expect(categories.map((c: { name: string }) => c.name)).toEqual(['general', 'other', 'personal', 'research', 'study', 'work'])
      expect(categories[0]).toEqual({ id: expect.any(String), name: 'general', icon: expect.any(String), color: expect.any(String), description: expect.any(String), created_at: expect.any(String) })
    })

    it('updates metadata of the caller\'s documents and searches them', async () => {
      const [alpha] = await list(alice)
      const update = await t.app.inject({
        method: 'PUT',
        url: `/documents/${alpha!.id as string}/metadata`,
        headers: alice.headers,
        payload: { category: 'research', tags: 'volcano, history ,volcano', description: 'Field notes 100% real' }
      })
      expect(update.json()).toEqual({ success: true, message: 'Document metadata updated successfully' })

      const search = async (user: TestUser, query: string) => {
        const res = await t.app.inject({ method: 'GET', url: `/documents/search?${query}`, headers: user.headers })
        expect(res.statusCode).toBe(200)
        return res.json() as { success: boolean, count: number, documents: Array<Record<string, unknown>> }
      }
      const byTags = await search(alice, 'tags=history,volcano')
      expect(byTags.count).toBe(1)
      expect(byTags.documents[0]).toMatchObject({ id: alpha!.id, name: 'alpha', filename: 'alpha.pdf', category: 'research', tags: ['volcano', 'history'], description: 'Field notes 100% real', processed: true, page_count: 3 })
      expect((await search(alice, 'category=research')).count).toBe(1)
      expect((await search(alice, 'category=all')).count).toBe(2)
      expect((await search(alice, 'q=100%25')).count).toBe(1)
      expect((await search(alice, 'q=1_0')).count).toBe(0)
      expect((await search(alice, 'q=BETA')).documents.map((d) => d.name)).toEqual(['beta'])
      // Newest first.
      expect((await search(alice, '')).documents.map((d) => d.name)).toEqual(['beta', 'alpha'])
      // Bob finds nothing of Alice's.
      expect(await search(bob, 'q=alpha')).toEqual({ success: true, documents: [], count: 0 })
      expect((await search(bob, '')).documents.map((d) => d.name)).toEqual(['bobs'])
    })

    it('refuses metadata updates that are empty, invalid, foreign or not UUIDs', async () => {
      const [alpha] = await list(alice)
      const put = async (user: TestUser, id: string, payload?: unknown) =>
        await t.app.inject({ method: 'PUT', url: `/documents/${id}/metadata`, headers: user.headers, ...(payload === undefined ? {} : { payload: payload as object }) })

      const none = await put(alice, alpha!.id as string, {})
      expect(none.statusCode).toBe(400)
      expect(none.json()).toEqual({ success: false, message: 'No updates provided' })
      const badCategory = await put(alice, alpha!.id as string, { category: 'astrology' })
      expect(badCategory.statusCode).toBe(400)
      expect(badCategory.json()).toEqual({ success: false, message: 'Invalid category' })
      const foreign = await put(bob, alpha!.id as string, { description: 'hijacked' })
      expect(foreign.statusCode).toBe(404)
      expect(foreign.json()).toEqual({ success: false, message: 'Document not found' })
      const { rows } = await db.query('SELECT description FROM documents WHERE id = $1', [alpha!.id])
      expect(rows[0].description).not.toBe('hijacked')
      const notUuid = await put(alice, 'not-a-uuid', { description: 'x' })
      expect(notUuid.statusCode).toBe(400)
      expect(notUuid.json().success).toBe(false)
    })
  })
})

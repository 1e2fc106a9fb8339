import { randomBytes } from 'node:crypto'
import pg from 'pg'

/** The PostgreSQL server tests create their throwaway databases on (the machine's, or TEST_ADMIN_DATABASE_URL). */
export const ADMIN_DATABASE_URL = process.env.TEST_ADMIN_DATABASE_URL ?? 'postgres://postgres@127.0.0.1:5432/postgres'

/** `label` made unique per run: database names, Redis key prefixes. */
export function uniqueName (label: string): string {
  return `${label}_${Date.now().toString(36)}_${randomBytes(3).toString('hex')}`.toLowerCase()
}

/** One statement on a short-lived connection to the admin database. */
export async function adminQuery (adminUrl: string, sql: string, params: unknown[] = []): Promise<Array<Record<string, unknown>>> {
  const client = new pg.Client({ connectionString: adminUrl })
  await client.connect()
  try {
    return (await client.query(sql, params)).rows
  } finally {
    await client.end()
  }
}

export interface ThrowawayDatabase {
  name: string
  url: string
  /** Drops it (WITH FORCE: connections left open by a killed process do not keep it); idempotent. */
  drop: () => Promise<void>
}

/** A fresh, empty database `<label>_<unique>` on the admin server. */
export async function createDatabase (label: string, adminUrl = ADMIN_DATABASE_URL): Promise<ThrowawayDatabase> {
  const name = uniqueName(label)
  await adminQuery(adminUrl, `CREATE DATABASE "${name}"`)
  const url = new URL(adminUrl)
  url.pathname = `/${name}`
  let dropped = false
  return {
    name,
    url: url.toString(),
    async drop () {
      if (dropped) return
      dropped = true
      await adminQuery(adminUrl, `DROP DATABASE IF EXISTS "${name}" WITH (FORCE)`)
    }
  }
}

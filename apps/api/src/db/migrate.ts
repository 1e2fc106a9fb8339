import { fileURLToPath } from 'node:url'
import { runner } from 'node-pg-migrate'

/** Versioned SQL files, next to src/ and dist/ so both the compiled service and the tests find them. */
export const MIGRATIONS_DIR = fileURLToPath(new URL('../../migrations', import.meta.url))

export interface MigrateLogger {
  info: (message: string) => void
}

/**
 * Applies pending migrations. Safe when every PM2 worker boots at once: node-pg-migrate holds a
 * Postgres advisory lock, and with 'wait' the other workers queue behind it and then find nothing to do.
 */
export async function migrate (databaseUrl: string, logger?: MigrateLogger): Promise<string[]> {
  const applied = await runner({
    databaseUrl,
    dir: MIGRATIONS_DIR,
    direction: 'up',
    migrationsTable: 'pgmigrations',
    advisoryLockMode: 'wait',
    singleTransaction: true,
    checkOrder: true,
    log: () => {},
    logger: { debug: () => {}, info: () => {}, warn: (m: string) => logger?.info(m), error: (m: string) => logger?.info(m) }
  })
  const names = applied.map((m) => m.name)
  if (names.length > 0) logger?.info(`applied migrations: ${names.join(', ')}`)
  return names
}

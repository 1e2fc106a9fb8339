#!/usr/bin/env node
// Applies pending migrations to DATABASE_URL (for deployments that migrate as a separate step).
import { loadConfig } from '../config.js'
import { migrate } from '../db/migrate.js'

const config = loadConfig()
if (config.databaseUrl === undefined) {
  console.error('DATABASE_URL is not set')
  process.exit(1)
}
const applied = await migrate(config.databaseUrl, { info: (m) => console.log(m) })
console.log(applied.length === 0 ? 'database is up to date' : `applied ${applied.length} migration(s)`)

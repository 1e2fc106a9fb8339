/**
 * The Piscina worker only exists as compiled JavaScript (apps/api/dist). `npm test` runs
 * `npm run build` first; when running vitest directly, build first:
 *   cd apps/api && npx tsc -p tsconfig.build.json
 * These helpers fail loudly if the build is missing or older than the sources, rather
 * than silently testing stale code.
 */
import { existsSync, readdirSync, statSync } from 'node:fs'
import { fileURLToPath } from 'node:url'
import { defaultWorkerFilename } from '../../src/ingestion/pdf-extractor.js'

const srcDir = fileURLToPath(new URL('../../src/ingestion/', import.meta.url))
const distDir = fileURLToPath(new URL('../../dist/ingestion/', import.meta.url))

export const compiledWorkerPath = fileURLToPath(defaultWorkerFilename())

export function assertCompiledWorkerIsFresh (): void {
  if (!existsSync(compiledWorkerPath)) {
    throw new Error(`Compiled PDF worker missing (${compiledWorkerPath}). Run: npm run build (or cd apps/api && npx tsc -p tsconfig.build.json)`)
  }
  for (const file of readdirSync(srcDir).filter((f) => f.endsWith('.ts'))) {
    const compiled = `${distDir}${file.replace(/\.ts$/, '.js')}`
    if (!existsSync(compiled) || statSync(compiled).mtimeMs < statSync(`${srcDir}${file}`).mtimeMs) {
      throw new Error(`Compiled ingestion code is stale (${file}). Run: npm run build (or cd apps/api && npx tsc -p tsconfig.build.json)`)
    }
  }
}

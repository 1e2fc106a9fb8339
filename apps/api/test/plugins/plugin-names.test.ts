import { readdir, readFile } from 'node:fs/promises'
import { basename, join } from 'node:path'
import { fileURLToPath } from 'node:url'
import { describe, expect, it } from 'vitest'

// A reader finds `fastify.kvStore` in kv-store.ts: every plugin is named as its file, and every
// decorator it adds to the instance is that name in camelCase.

const PLUGINS_DIR = fileURLToPath(new URL('../../src/plugins/', import.meta.url))
const camelCase = (name: string): string => name.replace(/-([a-z])/g, (_, c: string) => c.toUpperCase())

const files = (await readdir(PLUGINS_DIR, { recursive: true })).filter((f) => f.endsWith('.ts')).sort()

describe('plugin and decorator names', () => {
  it('finds the plugins', () => {
    expect(files.length).toBeGreaterThan(25)
  })

  it.each(files)('%s', async (file) => {
    const name = basename(file, '.ts')
    const source = await readFile(join(PLUGINS_DIR, file), 'utf8')
    const mod = await import(join(PLUGINS_DIR, file)) as { default?: Record<symbol, { name?: string } | undefined> }
    const meta = mod.default?.[Symbol.for('plugin-meta')]
    if (meta === undefined) {
      // Not a plugin (a module the plugin beside it uses): it must not decorate anything.
      expect(source).not.toMatch(/\.decorate\(/)
      return
    }
    expect(meta.name).toBe(name)
    const decorated = new Set([...source.matchAll(/\.decorate\('([^']+)'/g)].map((m) => m[1]))
    for (const decorator of decorated) expect(decorator).toBe(camelCase(name))
  })
})

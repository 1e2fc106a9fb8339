import { readFile } from 'node:fs/promises'
import { fileURLToPath } from 'node:url'
import type { RouteOptions } from 'fastify'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { DOCS_PREFIX } from '../../src/plugins/external/swagger.js'
import { buildTestApp, type TestApp } from '../helpers/app.js'

const ROOT = fileURLToPath(new URL('../../../../', import.meta.url))
const ROW = /^\| `([A-Z]+ \/\S*)` \| `(apps\/api\/src\/routes\/[^`]+)` \|$/

/** `/documents/` (a prefixed plugin's '/') is `/documents`, as the README and the clients write it. */
function normalize (url: string): string {
  return url.length > 1 ? url.replace(/\/$/, '') : url
}

/** The README's "URL → file" table: `METHOD /path` → file from the repository root. */
async function readmeTable (): Promise<Map<string, string>> {
  const readme = await readFile(`${ROOT}README.md`, 'utf8')
  const section = readme.split('\n### URL → file\n')[1]
  expect(section, 'README has a "### URL → file" section').toBeDefined()
  const table = new Map<string, string>()
  // The table is the section's first run of `|` lines; its two header lines are skipped.
  const lines = section!.split('\n')
  const start = lines.findIndex((l) => l.startsWith('|'))
  const end = lines.findIndex((l, i) => i > start && !l.startsWith('|'))
  for (const line of lines.slice(start + 2, end)) {
    const match = ROW.exec(line)
    expect(match, line).not.toBeNull()
    expect(table.has(match![1]!), `${match![1]!} listed twice`).toBe(false)
    table.set(match![1]!, match![2]!)
  }
  return table
}

describe('README URL → file table', () => {
  let t: TestApp
  beforeAll(async () => { t = await buildTestApp({ label: 'route_files', redis: false }) })
  afterAll(async () => { await t.close() })

  /** Swagger UI's pages and files under /docs, which @fastify/swagger-ui adds (plugins/external/swagger.ts). */
  const isDocsRoute = (route: RouteOptions): boolean => route.url === DOCS_PREFIX || route.url.startsWith(`${DOCS_PREFIX}/`)

  /**
   * Every route the app registered, by `METHOD /path`, with the path its file declares. CORS's
   * `OPTIONS *`, the HEAD routes Fastify adds beside a GET and the documentation's routes are left
   * out; a HEAD of our own stays.
   */
  function registered (): Map<string, string> {
    const routes = t.routes.flatMap((route: RouteOptions) => [route.method].flat().map((method) => ({ method, route })))
    const autoHead = new Set(routes.filter(({ method, route }) => method === 'GET' && route.exposeHeadRoute !== false).map(({ route }) => normalize(route.url)))
    const table = new Map<string, string>()
    for (const { method, route } of routes) {
      if (method === 'OPTIONS' || isDocsRoute(route) || (method === 'HEAD' && autoHead.has(normalize(route.url)))) continue
      const key = `${method} ${normalize(route.url)}`
      if (!table.has(key)) table.set(key, (route as RouteOptions & { routePath: string }).routePath)
    }
    return table
  }

  it('lists every registered route, and only those', async () => {
    const routes = [...registered().keys()].sort()
    const documented = [...(await readmeTable()).keys()].sort()
    expect(documented).toEqual(routes)
  })

  it('leaves out only the documentation\'s own routes, which the README names with their plugin', async () => {
    const docs = t.routes.filter(isDocsRoute)
    expect(docs.length).toBeGreaterThan(0)
    // Hidden from the OpenAPI document: Swagger UI's, not a route of the API put under /docs.
    for (const route of docs) expect((route.schema as { hide?: boolean } | undefined)?.hide, route.url).toBe(true)
    const readme = await readFile(`${ROOT}README.md`, 'utf8')
    expect(readme.split('\n### URL → file\n')[1]).toContain(`\`${DOCS_PREFIX}\` and \`${DOCS_PREFIX}/*\``)
  })

  it('names, for each route, the file under the folder of its URL that declares it', async () => {
    const routes = registered()
    for (const [route, file] of await readmeTable()) {
      const path = route.split(' ')[1]!
      // Folders follow the URL: /user/stats lives in routes/user/, /voice-query in routes/voice-query/.
      expect(file.split('/')[4], route).toBe(path.split('/')[1])
      const source = await readFile(`${ROOT}${file}`, 'utf8')
      expect(source, `${file} declares '${routes.get(route) ?? '?'}' (${route})`).toContain(`'${routes.get(route) ?? path}'`)
    }
  })
})

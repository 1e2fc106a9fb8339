// The HTML report as a browser shows it: Debian's chromium, headless and offline, opens the file a
// run against the fake API (with /metrics) wrote, and every chart must have drawn something.
import { existsSync } from 'node:fs'
import { mkdtemp, rm, writeFile } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { pathToFileURL } from 'node:url'
import { chromium, type Browser } from 'playwright-core'
import { afterAll, describe, expect, it } from 'vitest'
import { renderHtml } from '../src/report/html.js'
import { runLoadTest } from '../src/run.js'
import { fakeTargetConfig, startFakeApi } from './fake-api.js'

const CHROMIUM = '/usr/bin/chromium'

describe.skipIf(!existsSync(CHROMIUM))('the HTML report in headless Chromium', () => {
  let browser: Browser | undefined
  let dir: string | undefined
  afterAll(async () => {
    await browser?.close()
    if (dir !== undefined) await rm(dir, { recursive: true, force: true })
  })

  it('opens offline without console errors, and every chart has drawn marks', async () => {
    const fake = await startFakeApi({ trustXff: true, metrics: { token: 'secret' } })
    let html: string
    try {
      const report = await runLoadTest(fakeTargetConfig(fake.url, { metricsToken: 'secret' }), { log: () => {} })
      expect(report.ok).toBe(true)
      html = renderHtml(report)
    } finally {
      await fake.close()
    }
    dir = await mkdtemp(join(tmpdir(), 'loadtest-html-'))
    const file = join(dir, 'report.html')
    await writeFile(file, html)

    browser = await chromium.launch({
      executablePath: CHROMIUM,
      args: ['--headless', '--no-sandbox', '--disable-background-networking', '--disable-gpu', '--no-first-run', '--disable-component-update', '--disable-sync']
    })
    // playwright-core launches with a new temporary user-data-dir; offline: nothing may leave the machine.
    const context = await browser.newContext({ offline: true })
    const page = await context.newPage()
    const problems: string[] = []
    const requests: string[] = []
    page.on('console', (m) => { if (m.type() === 'error' || m.type() === 'warning') problems.push(`console ${m.type()}: ${m.text()}`) })
    page.on('pageerror', (e) => problems.push(`page error: ${e.message}`))
    page.on('request', (r) => requests.push(r.url()))
    page.on('requestfailed', (r) => problems.push(`request failed: ${r.url()}`))
    await page.goto(pathToFileURL(file).href, { waitUntil: 'load' })

    expect(problems).toEqual([])
    // The report inlines everything it needs: the file itself is the only request.
    expect(requests).toEqual([pathToFileURL(file).href])

    const charts = await page.$$eval('figure', (figures) => figures.map((f) => {
      const svg = f.querySelector('svg')
      const marks = svg === null
        ? []
        : [...svg.querySelectorAll('rect, path, circle, polyline')].filter((m) => {
            const box = (m as unknown as { getBBox: () => { width: number, height: number } }).getBBox()
            return box.width > 0 || box.height > 0
          })
      const shown = svg?.getBoundingClientRect()
      return {
        caption: `${f.closest('section')?.id ?? 'overview'}: ${f.querySelector('figcaption')?.textContent ?? ''}`,
        marks: marks.length,
        visible: shown !== undefined && shown.width > 0 && shown.height > 0,
        noData: svg?.textContent?.includes('no data') === true
      }
    }))
    // Per scenario: status codes, latency distribution, requests per second, server time by part,
    // client vs server P95, event-loop utilisation; plus the overview's status codes.
    expect(charts.length).toBe(1 + 7 * 6)
    for (const c of charts) {
      expect(c, c.caption).toMatchObject({ visible: true, noData: false })
      expect(c.marks, c.caption).toBeGreaterThan(0)
    }
    const where = await page.$$eval('p.where', (ps) => ps.map((p) => p.textContent ?? ''))
    expect(where).toHaveLength(7)
    expect(where.find((w) => w.startsWith('logins '))).toMatch(/waiting for a hash slot/)
    await context.close()
  }, 120_000)
})

// POST /upload of the large PDF, with GET /health probed while it ingests, against pdf-parse alone.
import { execFile } from 'node:child_process'
import { writeFile } from 'node:fs/promises'
import { join } from 'node:path'
import { fileURLToPath } from 'node:url'
import { promisify } from 'node:util'
import { signup, stickyAgent, uploadPdf } from '../api.js'
import type { LoadSpec } from '../load-types.js'
import { runLoad, startLoad } from '../load.js'
import { median, ratio, round } from '../stats.js'
import type { IngestResult, IngestUpload } from '../types.js'
import { checkLoad, type Context, figures, sleep, withLoadAverages } from './measure.js'

interface ParseAlone { import_ms: number, parse_ms: number[], pages: number, chars: number }

async function pdfParseAlone (file: string, runs: number, warmupFile: string): Promise<ParseAlone> {
  const script = fileURLToPath(new URL('../pdf-parse-alone.js', import.meta.url))
  const { stdout } = await promisify(execFile)(process.execPath, [script, file, String(runs), warmupFile], { timeout: 600_000, maxBuffer: 1024 * 1024 })
  return JSON.parse(stdout.trim().split('\n').pop()!) as ParseAlone
}

export async function ingestPhase (ctx: Context): Promise<IngestResult> {
  return await withLoadAverages(async () => {
    const { probeConnections, probeRate, idleProbeSec, uploads } = ctx.options.plan.ingest
    const [pdf, small] = await Promise.all([ctx.largePdf, ctx.askPdf])
    const file = join(ctx.workDir, 'ingest.pdf')
    const warmupFile = join(ctx.workDir, 'warmup.pdf')
    await writeFile(file, pdf.data)
    await writeFile(warmupFile, small)
    const user = await signup(ctx.stack.url, 'ingest')
    const probe = (durationSec: number): LoadSpec => ({
      url: ctx.stack.url, path: '/health', connections: probeConnections, overallRate: probeRate, durationSec, timeoutSec: 30
    })
    // One connection for every upload: the same worker, whose extraction thread the small upload starts.
    const agent = stickyAgent()
    try {
      const warm = await uploadPdf(ctx.stack.url, user, 'warmup.pdf', small, agent)
      if (warm.status !== 200 || warm.body.success !== true) throw new Error(`warm-up upload failed: ${warm.status} ${warm.text.slice(0, 300)}`)
      ctx.log(`ingest: /health probe with nothing ingesting, ${idleProbeSec} s`)
      const idle = await runLoad(probe(idleProbeSec))
      checkLoad(ctx, 'ingest idle probe', idle)
      const results: IngestUpload[] = []
      for (let i = 0; i < uploads; i++) {
        ctx.log(`ingest: upload ${i + 1}/${uploads} of ${(pdf.data.length / 1e6).toFixed(1)} MB (${pdf.pages} pages) with the /health probe running`)
        const running = startLoad(probe(900))
        await running.started
        await sleep(250)
        let res
        try {
          res = await uploadPdf(ctx.stack.url, user, 'ingest.pdf', pdf.data, agent)
        } finally {
          await sleep(250)
          running.stop()
        }
        const health = await running.result
        checkLoad(ctx, `ingest probe ${i + 1}`, health)
        if (res.status !== 200 || res.body.success !== true) throw new Error(`upload failed: ${res.status} ${res.text.slice(0, 300)}`)
        const document = res.body.document as { pages?: number } | undefined
        const statistics = res.body.statistics as { total_chunks?: number } | undefined
        results.push({ upload_ms: round(res.ms, 1), status: res.status, pages: document?.pages ?? null, chunks: statistics?.total_chunks ?? null, health: figures(health) })
        ctx.log(`ingest: upload ${round(res.ms, 0)} ms, /health p99 ${health.latency.p99_ms} ms`)
      }
      ctx.log(`ingest: pdf-parse alone on the same file, ${uploads} run(s)`)
      const alone = await pdfParseAlone(file, uploads, warmupFile)
      const uploadMs = median(results.map((r) => r.upload_ms))
      const parseMs = median(alone.parse_ms)
      return {
        health_p99_ms: Math.max(...results.map((r) => r.health.latency.p99_ms)),
        health_p99_idle_ms: idle.latency.p99_ms,
        ratio: round(ratio(parseMs, uploadMs), 4),
        upload_ms: round(uploadMs, 1),
        pdf_parse_ms: round(parseMs, 1),
        pdf_parse_import_ms: round(alone.import_ms, 1),
        pdf_bytes: pdf.data.length,
        pdf_pages: alone.pages,
        probe_connections: probeConnections,
        probe_rate_rps: probeRate,
        uploads: results,
        pdf_parse_runs_ms: alone.parse_ms.map((ms) => round(ms, 1)),
        health_idle: figures(idle)
      }
    } finally {
      agent.destroy()
    }
  })
}

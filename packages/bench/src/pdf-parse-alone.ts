// Child process: the reference for ingestion, pdf-parse alone in one process on the same file.
// argv = FILE RUNS [WARMUP_FILE]. Reports {import_ms, parse_ms[], pages, chars} on stdout as one
// JSON line. WARMUP_FILE (a small PDF) is parsed once, untimed, right after pdf.js is loaded, as
// the bench's warm-up upload does for the API's extraction thread. Each timed parse is
// `new PDFParse({data}).getText()` over every page.
import { readFile } from 'node:fs/promises'

const [file, runsArg, warmupFile] = process.argv.slice(2)
if (file === undefined) throw new Error('usage: pdf-parse-alone FILE [RUNS] [WARMUP_FILE]')
const runs = Math.max(1, Number(runsArg ?? '1'))
const data = await readFile(file)

const importStart = performance.now()
const { PDFParse } = await import('pdf-parse')
const importMs = performance.now() - importStart

async function parse (bytes: Uint8Array): Promise<{ pages: number, chars: number }> {
  const parser = new PDFParse({ data: new Uint8Array(bytes) })
  try {
    const result = await parser.getText()
    return { pages: result.total, chars: result.text.length }
  } finally {
    await parser.destroy()
  }
}

if (warmupFile !== undefined) await parse(await readFile(warmupFile))
const parseMs: number[] = []
let pages = 0
let chars = 0
for (let i = 0; i < runs; i++) {
  const start = performance.now()
  const result = await parse(data)
  parseMs.push(performance.now() - start)
  pages = result.pages
  chars = result.chars
}
process.stdout.write(JSON.stringify({ import_ms: importMs, parse_ms: parseMs, pages, chars }) + '\n')

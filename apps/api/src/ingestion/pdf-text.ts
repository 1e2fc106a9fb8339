/**
 * In-process PDF text extraction with pdf-parse 2.x (pdf.js 5 underneath).
 *
 * Shared by the Piscina worker (`pdf-extract.worker.ts`) and by tests / the in-process
 * extractor. Importing this module loads pdf.js, which (in Node) also `require`s the
 * native `@napi-rs/canvas` package at import time to polyfill `DOMMatrix` (pdf.js needs
 * it at module top level). That costs ~20 MB RSS once per process; we never call the
 * rendering APIs (`getScreenshot`, `getImage`, `getTable`), so no canvas is ever created.
 * Keep this module out of the API's main thread: import it only from the worker.
 *
 * pdf.js' legacy build also installs core-js polyfills on load (on Node 20 it replaces
 * `Array.prototype.push` and `JSON.parse` with slower JS versions); see native-builtins.ts.
 */
// Must stay above the 'pdf-parse' import: captures natives before core-js replaces them.
import { restoreNativeBuiltins } from './native-builtins.js'
import { createRequire } from 'node:module'
import { dirname, join } from 'node:path'
import { setImmediate as nextMacrotask } from 'node:timers/promises'
import { PDFParse } from 'pdf-parse'
import { PdfExtractionError, toPdfExtractionError } from './errors.js'
import { DecodeBudget, installDecodeBudget, withDecodeBudget } from './pdfjs-decode-budget.js'

// pdf.js' worker module (loaded here, bounded) brings its own copy of core-js.
await installDecodeBudget()

/** Builtins that pdf.js' bundled core-js had replaced in this realm and that we restored. */
export const restoredBuiltins: readonly string[] = restoreNativeBuiltins()

/** Bytes one document's streams may decode to, all streams together (see pdfjs-decode-budget.ts). */
export const DEFAULT_MAX_DECODED_BYTES = 128 * 1024 * 1024

export interface ExtractedPage {
  /** 1-based page number. */
  page: number
  /** Page text (lines separated by `\n`), sanitised: no NUL/control characters, no lone surrogates. */
  text: string
}

export interface PdfInfo {
  title?: string
  author?: string
  subject?: string
  keywords?: string
  creator?: string
  producer?: string
  /** Header version, e.g. `1.7`. */
  pdfVersion?: string
}

export interface ExtractedPdf {
  /** One entry per page, in order, including pages without text (`text === ''`). */
  pages: ExtractedPage[]
  pageCount: number
  /** Bytes the document's filtered streams decoded to (what `maxDecodedBytes` bounds). */
  decodedBytes: number
  info?: PdfInfo
}

export interface ExtractPdfOptions {
  /** Checked between pages; aborting rejects with `PDF_ABORTED`. */
  signal?: AbortSignal
  /** Refuse documents with more pages than this (`PDF_TOO_COMPLEX`). Default: no limit. */
  maxPages?: number
  /**
   * Bytes the document's filtered streams may decode to, counted as pdf.js decodes them (every
   * decoder, every stream, repeats included); beyond it the extraction fails with `PDF_TOO_COMPLEX`.
   * Default `DEFAULT_MAX_DECODED_BYTES`.
   */
  maxDecodedBytes?: number
  /**
   * `true` if the caller hands over ownership of `data`: pdf.js then transfers (detaches)
   * its ArrayBuffer instead of us copying it first. Default `false`: the caller's bytes are
   * left untouched (pdf.js would otherwise detach a whole-buffer `Uint8Array`).
   */
  transferOwnership?: boolean
  /** Return normally (with empty page texts) instead of throwing `PDF_NO_TEXT`. Default `false`. */
  allowEmpty?: boolean
  /** Collect the document info dictionary (title, author, ...). Default `true`. */
  includeInfo?: boolean
  /**
   * Receives the pages in order, in batches, as they are extracted (the caller can store them while
   * the rest is read); the result's `pages` is then empty. A failure after some batches still throws.
   */
  onPages?: (pages: ExtractedPage[]) => void
}

/** Pages per `onPages` batch: about 50 ms of extraction, so the consumer works alongside it. */
const PAGES_PER_BATCH = 16

interface PdfjsAssets {
  cMapUrl?: string
  standardFontDataUrl?: string
}

let assets: PdfjsAssets | undefined

/**
 * Paths of pdf.js' bundled CMaps and standard fonts. Without `cMapUrl`, text drawn with
 * predefined CJK CMaps (e.g. `UniJIS-UCS2-H`) cannot be extracted. Resolved from
 * pdf-parse's own location so it also works when pdfjs-dist is not hoisted.
 */
function pdfjsAssets (): PdfjsAssets {
  if (assets) return assets
  try {
    const fromHere = createRequire(import.meta.url)
    const fromPdfParse = createRequire(fromHere.resolve('pdf-parse'))
    const root = dirname(fromPdfParse.resolve('pdfjs-dist/package.json'))
    assets = {
      cMapUrl: join(root, 'cmaps') + '/',
      standardFontDataUrl: join(root, 'standard_fonts') + '/'
    }
  } catch {
    assets = {}
  }
  return assets
}

// C0 controls except TAB (09), LF (0A), CR (0D); DEL; C1 controls. NUL in particular is
// rejected by PostgreSQL text columns.
// eslint-disable-next-line no-control-regex
const CONTROL_CHARS = /[\u0000-\u0008\u000b\u000c\u000e-\u001f\u007f-\u009f]/g
const LONE_SURROGATE = /[\ud800-\udbff](?![\udc00-\udfff])|(?<![\ud800-\udbff])[\udc00-\udfff]/g

/** Make extracted text safe to store: normalise newlines, drop control chars and lone surrogates. */
export function sanitizeExtractedText (text: string): string {
  return text
    .replace(/\r\n?/g, '\n')
    .replace(CONTROL_CHARS, '')
    .replace(LONE_SURROGATE, '\uFFFD')
}

function pickString (value: unknown): string | undefined {
  if (typeof value !== 'string') return undefined
  const clean = sanitizeExtractedText(value).trim()
  return clean.length > 0 ? clean : undefined
}

function toInfo (raw: unknown): PdfInfo | undefined {
  if (typeof raw !== 'object' || raw === null) return undefined
  const r = raw as Record<string, unknown>
  const info: PdfInfo = {}
  const fields: Array<[keyof PdfInfo, string]> = [
    ['title', 'Title'], ['author', 'Author'], ['subject', 'Subject'], ['keywords', 'Keywords'],
    ['creator', 'Creator'], ['producer', 'Producer'], ['pdfVersion', 'PDFFormatVersion']
  ]
  for (const [key, source] of fields) {
    const value = pickString(r[source])
    if (value !== undefined) info[key] = value
  }
  return Object.keys(info).length > 0 ? info : undefined
}

function throwIfAborted (signal: AbortSignal | undefined): void {
  if (signal?.aborted) {
    throw new PdfExtractionError('PDF_ABORTED', 'PDF extraction was aborted', { cause: signal.reason })
  }
}

/**
 * Extract the text of every page of a PDF.
 *
 * Throws `PdfExtractionError` with code `PDF_ENCRYPTED`, `PDF_CORRUPT`, `PDF_NO_TEXT`,
 * `PDF_TOO_COMPLEX`, `PDF_ABORTED` or `PDF_EXTRACT_FAILED`. Always releases pdf.js
 * resources (`destroy()`), also on failure.
 */
export async function extractPdfText (data: Uint8Array, options: ExtractPdfOptions = {}): Promise<ExtractedPdf> {
  throwIfAborted(options.signal)
  if (data.byteLength === 0) throw new PdfExtractionError('PDF_CORRUPT', 'The PDF file is empty')
  const budget = new DecodeBudget(options.maxDecodedBytes ?? DEFAULT_MAX_DECODED_BYTES)
  return await withDecodeBudget(budget, async () => await extractWithinBudget(data, options, budget))
}

async function extractWithinBudget (data: Uint8Array, options: ExtractPdfOptions, budget: DecodeBudget): Promise<ExtractedPdf> {
  const { signal, maxPages, includeInfo = true } = options

  // pdf.js detaches the ArrayBuffer of a whole-buffer Uint8Array (it transfers it to its
  // "fake worker"), and pdf-parse copies Node Buffers anyway: give pdf.js its own plain copy
  // unless the caller handed ownership over.
  const owned = options.transferOwnership === true && !(data instanceof Buffer) ? data : new Uint8Array(data)

  const parser = new PDFParse({
    data: owned,
    ...pdfjsAssets(),
    cMapPacked: true,
    isEvalSupported: false,
    useSystemFonts: false,
    disableFontFace: true,
    verbosity: 0
  })
  try {
    // Page 1 first: loads the document (password / structure errors surface here) and
    // tells us the page count. Then one page at a time so we can honour `signal`.
    const first = await parser.getText({ partial: [1] })
    budget.assertWithin()
    const pageCount = first.total
    if (maxPages !== undefined && pageCount > maxPages) {
      throw new PdfExtractionError('PDF_TOO_COMPLEX', `The PDF has ${pageCount} pages (limit ${maxPages})`)
    }
    let pages: ExtractedPage[] = []
    let anyText = false
    const { onPages } = options
    const push = (num: number, text: string): void => {
      const page = { page: num, text: sanitizeExtractedText(text) }
      anyText ||= page.text.trim().length > 0
      pages.push(page)
      if (onPages !== undefined && pages.length >= PAGES_PER_BATCH) {
        onPages(pages)
        pages = []
      }
    }
    for (const p of first.pages) push(p.num, p.text)
    for (let n = 2; n <= pageCount; n++) {
      // pdf.js' in-thread "fake worker" talks over promise microtasks only: without this
      // the event loop (timers, I/O, abort signals) would be starved for the whole document.
      await nextMacrotask()
      throwIfAborted(signal)
      const result = await parser.getText({ partial: [n] })
      budget.assertWithin()
      for (const p of result.pages) push(p.num, p.text)
    }
    throwIfAborted(signal)
    if (onPages !== undefined && pages.length > 0) {
      onPages(pages)
      pages = []
    }

    if (!options.allowEmpty && !anyText) {
      throw new PdfExtractionError(
        'PDF_NO_TEXT',
        pageCount === 0
          ? 'The PDF has no pages'
          : 'No extractable text found in the PDF (it may be scanned or image-only)'
      )
    }

    const extracted: ExtractedPdf = { pages, pageCount, decodedBytes: budget.usedBytes }
    if (includeInfo) {
      try {
        const info = toInfo((await parser.getInfo()).info)
        if (info) extracted.info = info
      } catch {
        // Metadata is best-effort: never fail an otherwise good extraction because of it.
      }
    }
    return extracted
  } catch (err) {
    // A decoder error that pdf.js re-wrapped (or that made it fail elsewhere) is still the budget's.
    budget.assertWithin()
    throw toPdfExtractionError(err)
  } finally {
    await parser.destroy().catch(() => {})
  }
}

/**
 * Page-aware word chunking.
 *
 * The Flask backend split the whole document into words and emitted windows of
 * `chunk_size` words advancing by `chunk_size - overlap`. Here, by default, each page is
 * chunked on its own, so every chunk belongs to exactly one page (`page === pageEnd`)
 * and citations are exact; a page with at most `chunkSize` words yields one chunk.
 * `crossPages: true` restores document-wide windows (a chunk then spans
 * `page`..`pageEnd`).
 *
 * Differences from the naive `range(0, len(words), step)` loop: no trailing window that
 * only repeats the previous window's overlap (e.g. 1000 words, size 1000, overlap 200
 * gives one chunk, not two), and empty pages/chunks are dropped.
 */

export const DEFAULT_CHUNK_SIZE = 1000
export const DEFAULT_CHUNK_OVERLAP = 200

export interface PageText {
  /** 1-based page number. */
  page: number
  text: string
}

export interface TextChunk {
  /** 0-based position of the chunk in the document, contiguous and stable. */
  index: number
  /** Page where the chunk starts (1-based). */
  page: number
  /** Page where the chunk ends (equals `page` unless `crossPages`). */
  pageEnd: number
  /** Words joined by single spaces. */
  text: string
  wordCount: number
}

export interface ChunkOptions {
  /** Words per chunk (default 1000). */
  chunkSize?: number
  /** Words shared by consecutive chunks of the same window sequence (default 200, must be < chunkSize). */
  overlap?: number
  /** Let chunks span page boundaries (default false: chunk each page separately). */
  crossPages?: boolean
}

/** Split on any Unicode whitespace (incl. NBSP, ideographic space, BOM), dropping empties. */
export function splitWords (text: string): string[] {
  return text.split(/\s+/u).filter((w) => w.length > 0)
}

/** Collapse every whitespace run to one space and trim. */
export function normalizeWhitespace (text: string): string {
  return splitWords(text).join(' ')
}

function resolveOptions (options: ChunkOptions): { size: number, overlap: number } {
  const size = options.chunkSize ?? DEFAULT_CHUNK_SIZE
  const overlap = options.overlap ?? DEFAULT_CHUNK_OVERLAP
  if (!Number.isInteger(size) || size < 1) {
    throw new RangeError(`chunkSize must be a positive integer (got ${size})`)
  }
  if (!Number.isInteger(overlap) || overlap < 0) {
    throw new RangeError(`overlap must be a non-negative integer (got ${overlap})`)
  }
  if (overlap >= size) {
    throw new RangeError(`overlap (${overlap}) must be smaller than chunkSize (${size})`)
  }
  return { size, overlap }
}

/** Window start/end offsets over `n` words (end exclusive); none for `n === 0`. */
function windows (n: number, size: number, overlap: number): Array<[number, number]> {
  const out: Array<[number, number]> = []
  if (n === 0) return out
  const step = size - overlap
  for (let start = 0; ; start += step) {
    const end = Math.min(start + size, n)
    out.push([start, end])
    if (end >= n) break
  }
  return out
}

/** Chunk a plain text (no page information) into word windows. */
export function chunkText (text: string, options: ChunkOptions = {}): string[] {
  const { size, overlap } = resolveOptions(options)
  const words = splitWords(text)
  return windows(words.length, size, overlap).map(([s, e]) => words.slice(s, e).join(' '))
}

/**
 * Chunk extracted pages. Pages are processed in ascending page order (input order is
 * not trusted); pages without words produce no chunk.
 */
export function chunkPages (pages: readonly PageText[], options: ChunkOptions = {}): TextChunk[] {
  const { size, overlap } = resolveOptions(options)
  const ordered = [...pages].sort((a, b) => a.page - b.page)
  const chunks: TextChunk[] = []

  if (!options.crossPages) {
    for (const { page, text } of ordered) {
      const words = splitWords(text)
      for (const [s, e] of windows(words.length, size, overlap)) {
        chunks.push({ index: chunks.length, page, pageEnd: page, text: words.slice(s, e).join(' '), wordCount: e - s })
      }
    }
    return chunks
  }

  const words: string[] = []
  const pageOf: number[] = []
  for (const { page, text } of ordered) {
    for (const w of splitWords(text)) {
      words.push(w)
      pageOf.push(page)
    }
  }
  for (const [s, e] of windows(words.length, size, overlap)) {
    chunks.push({
      index: chunks.length,
      page: pageOf[s] ?? 0,
      pageEnd: pageOf[e - 1] ?? 0,
      text: words.slice(s, e).join(' '),
      wordCount: e - s
    })
  }
  return chunks
}

/**
 * Decompression-bomb guard for PDFs.
 *
 * pdf.js decodes a FlateDecode stream into one growing in-memory buffer (it never
 * streams), so a ~10 MB upload whose content stream inflates ~1000:1 would make pdf.js
 * allocate ~10 GB (measured: a 260 KB file inflating to 256 MiB costs ~500 MB RSS and
 * ~2 s). Typed-array memory lives outside the V8 heap, so worker `resourceLimits` do not
 * cap it, and an out-of-memory kill takes down the whole process, not just the worker.
 *
 * Before handing the bytes to pdf.js we therefore scan the raw file for streams and
 * inflate (natively, with zlib and a hard output cap) every stream whose filter chain
 * starts with FlateDecode, skipping images (pdf.js does not decode images for text
 * extraction). If one stream or the sum exceeds the limits we refuse the file.
 *
 * Known gaps (covered only by the extraction timeout): LZWDecode bombs, Flate streams
 * wrapped in ASCII85/ASCIIHex, and streams whose Flate data is corrupt (zlib stops at
 * the error and the stream is not counted).
 */
import { constants, inflateSync } from 'node:zlib'
import { PdfExtractionError } from './errors.js'

export interface InflationLimits {
  /** Maximum inflated size of a single stream, in bytes (default 64 MiB). */
  maxStreamBytes: number
  /** Maximum inflated size of all inspected streams together, in bytes (default 512 MiB). */
  maxTotalBytes: number
}

export const DEFAULT_INFLATION_LIMITS: Readonly<InflationLimits> = Object.freeze({
  maxStreamBytes: 64 * 1024 * 1024,
  maxTotalBytes: 512 * 1024 * 1024
})

export interface InflationReport {
  /** Streams found in the file. */
  streams: number
  /** Streams actually inflated (Flate, not images). */
  inflated: number
  /** Sum of the inflated sizes of the inflated streams. */
  totalInflatedBytes: number
  /** Largest single inflated stream. */
  largestStreamBytes: number
}

const FLATE_NAMES = new Set(['FlateDecode', 'Fl'])
const DICT_LOOKBACK = 8192

function isEol (byte: number | undefined): boolean {
  return byte === 0x0a || byte === 0x0d
}

/** The filter names of a stream dictionary, in order (`/Filter /X` or `/Filter [/X /Y]`). */
export function parseFilters (dict: string): string[] {
  const match = /\/Filter\s*(\[[^\]]*\]|\/[^\s/[\]<>()]+)/.exec(dict)
  if (!match?.[1]) return []
  return [...match[1].matchAll(/\/([^\s/[\]<>()]+)/g)].map((m) => m[1] ?? '')
}

function inflateCapped (input: Uint8Array, cap: number): Buffer | 'over' | null {
  try {
    // Z_SYNC_FLUSH: a truncated stream yields what could be decoded instead of throwing.
    return inflateSync(input, { maxOutputLength: Math.max(1, cap), finishFlush: constants.Z_SYNC_FLUSH })
  } catch (err) {
    if ((err as { code?: unknown }).code === 'ERR_BUFFER_TOO_LARGE') return 'over'
    return null // undecodable: pdf.js will stop at the same error
  }
}

/**
 * Scan `data` and throw `PdfExtractionError('PDF_TOO_COMPLEX')` if the Flate streams
 * inflate beyond `limits`. Returns what was measured otherwise.
 */
export function assertPdfInflationWithinLimits (
  data: Uint8Array,
  limits: InflationLimits = DEFAULT_INFLATION_LIMITS
): InflationReport {
  const buf = Buffer.from(data.buffer, data.byteOffset, data.byteLength)
  const report: InflationReport = { streams: 0, inflated: 0, totalInflatedBytes: 0, largestStreamBytes: 0 }
  let pos = 0
  for (;;) {
    const kw = buf.indexOf('stream', pos, 'latin1')
    if (kw === -1) break
    pos = kw + 6
    // Skip `endstream`, and require `stream` followed by an EOL (CRLF, LF or CR).
    if (kw >= 3 && buf.toString('latin1', kw - 3, kw) === 'end') continue
    let dataStart = kw + 6
    if (buf[dataStart] === 0x0d && buf[dataStart + 1] === 0x0a) dataStart += 2
    else if (isEol(buf[dataStart])) dataStart += 1
    else continue

    // The stream dictionary sits between the preceding `obj` keyword and `stream`.
    const from = Math.max(0, kw - DICT_LOOKBACK)
    const objAt = buf.lastIndexOf('obj', kw, 'latin1')
    const dict = buf.toString('latin1', objAt >= from ? objAt : from, kw)
    const endAt = buf.indexOf('endstream', dataStart, 'latin1')
    const dataEnd = endAt === -1 ? buf.length : endAt
    pos = Math.max(pos, dataEnd)
    report.streams++

    if (/\/Subtype\s*\/Image\b/.test(dict)) continue
    const filters = parseFilters(dict)
    let layer: Uint8Array = buf.subarray(dataStart, dataEnd)
    let inflatedAny = false
    for (const filter of filters) {
      if (!FLATE_NAMES.has(filter)) break
      const cap = Math.min(limits.maxStreamBytes, limits.maxTotalBytes - report.totalInflatedBytes)
      const out = inflateCapped(layer, cap)
      if (out === 'over') {
        const what = cap < limits.maxStreamBytes
          ? `its compressed streams together inflate beyond ${limits.maxTotalBytes} bytes`
          : `a compressed stream inflates beyond ${limits.maxStreamBytes} bytes`
        throw new PdfExtractionError('PDF_TOO_COMPLEX', `The PDF is too large to process: ${what}`)
      }
      if (out === null) break
      layer = out
      inflatedAny = true
    }
    if (!inflatedAny) continue
    report.inflated++
    report.totalInflatedBytes += layer.byteLength
    report.largestStreamBytes = Math.max(report.largestStreamBytes, layer.byteLength)
  }
  return report
}

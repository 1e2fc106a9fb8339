/** Minimal multipart/form-data parser (RFC 7578) for fully buffered bodies. */

export interface MultipartPart {
  name: string
  filename?: string
  contentType?: string
  data: Buffer
}

export class MultipartError extends Error {}

/** Boundary parameter of a `multipart/form-data` content type, or null. */
export function multipartBoundary (contentType: string | undefined): string | null {
  if (contentType === undefined) return null
  const [type, ...params] = contentType.split(';')
  if (type?.trim().toLowerCase() !== 'multipart/form-data') return null
  for (const p of params) {
    const eq = p.indexOf('=')
    if (eq < 0) continue
    if (p.slice(0, eq).trim().toLowerCase() !== 'boundary') continue
    let v = p.slice(eq + 1).trim()
    if (v.startsWith('"') && v.endsWith('"') && v.length >= 2) v = v.slice(1, -1)
    return v.length > 0 && v.length <= 200 ? v : null
  }
  return null
}

function parseDisposition (value: string): { name?: string, filename?: string } {
  const out: { name?: string, filename?: string } = {}
  const re = /;\s*([\w*-]+)\s*=\s*(?:"((?:[^"\\]|\\.)*)"|([^;\s]*))/g
  for (const m of value.matchAll(re)) {
    const key = (m[1] ?? '').toLowerCase()
    const raw = m[2] !== undefined ? m[2].replace(/\\(.)/g, '$1') : (m[3] ?? '')
    if (key === 'name') out.name = raw
    else if (key === 'filename') out.filename = raw
  }
  return out
}

/** Parses a buffered multipart body. Throws MultipartError on malformed input. */
export function parseMultipart (body: Buffer, boundary: string): MultipartPart[] {
  const delim = Buffer.from(`--${boundary}`, 'latin1')
  const parts: MultipartPart[] = []
  let pos = body.indexOf(delim)
  if (pos < 0) throw new MultipartError('multipart boundary not found in body')
  for (;;) {
    pos += delim.length
    // Closing delimiter `--boundary--`.
    if (body[pos] === 0x2d && body[pos + 1] === 0x2d) return parts
    // Skip transport padding and the CRLF after the delimiter.
    while (body[pos] === 0x20 || body[pos] === 0x09) pos++
    if (body[pos] === 0x0d && body[pos + 1] === 0x0a) pos += 2
    else throw new MultipartError('malformed multipart delimiter line')
    const headerEnd = body.indexOf('\r\n\r\n', pos, 'latin1')
    if (headerEnd < 0) throw new MultipartError('unterminated multipart part headers')
    const headers = new Map<string, string>()
    for (const line of body.toString('utf8', pos, headerEnd).split('\r\n')) {
      const c = line.indexOf(':')
      if (c > 0) headers.set(line.slice(0, c).trim().toLowerCase(), line.slice(c + 1).trim())
    }
    const dataStart = headerEnd + 4
    const next = body.indexOf(Buffer.concat([Buffer.from('\r\n', 'latin1'), delim]), dataStart)
    if (next < 0) throw new MultipartError('unterminated multipart part')
    const disp = parseDisposition(headers.get('content-disposition') ?? '')
    if (disp.name !== undefined) {
      const part: MultipartPart = { name: disp.name, data: body.subarray(dataStart, next) }
      if (disp.filename !== undefined) part.filename = disp.filename
      const ct = headers.get('content-type')
      if (ct !== undefined) part.contentType = ct
      parts.push(part)
    }
    pos = next + 2
  }
}

import { randomBytes } from 'node:crypto'

export interface FormFile {
  field: string
  filename: string
  contentType: string
  bytes: Buffer
}

/** A multipart/form-data body for inject(): the text fields, then the files. */
export function formData (fields: Record<string, string>, files: readonly FormFile[] = []): { payload: Buffer, headers: Record<string, string> } {
  const boundary = `----documind${randomBytes(8).toString('hex')}`
  const chunks: Buffer[] = []
  for (const [name, value] of Object.entries(fields)) {
    chunks.push(Buffer.from(`--${boundary}\r\nContent-Disposition: form-data; name="${name}"\r\n\r\n${value}\r\n`))
  }
  for (const file of files) {
    chunks.push(Buffer.from(
      `--${boundary}\r\nContent-Disposition: form-data; name="${file.field}"; filename="${file.filename}"\r\n` +
      `Content-Type: ${file.contentType}\r\n\r\n`
    ))
    chunks.push(file.bytes, Buffer.from('\r\n'))
  }
  chunks.push(Buffer.from(`--${boundary}--\r\n`))
  return { payload: Buffer.concat(chunks), headers: { 'content-type': `multipart/form-data; boundary=${boundary}` } }
}

import { mkdir, writeFile } from 'node:fs/promises'
import { dirname, resolve } from 'node:path'
import { renderHtml } from './html.js'
import type { Report } from './types.js'

/** The report as JSON (NaN and Infinity become null). */
export function renderJson (report: Report): string {
  return JSON.stringify(report, (_key, value: unknown) => typeof value === 'number' && !Number.isFinite(value) ? null : value, 2) + '\n'
}

export async function writeReportFile (file: string, content: string): Promise<string> {
  const path = resolve(file)
  await mkdir(dirname(path), { recursive: true })
  await writeFile(path, content)
  return path
}

export async function writeReports (report: Report, files: { json?: string | undefined, html?: string | undefined }): Promise<string[]> {
  const written: string[] = []
  if (files.json !== undefined) written.push(await writeReportFile(files.json, renderJson(report)))
  if (files.html !== undefined) written.push(await writeReportFile(files.html, renderHtml(report)))
  return written
}

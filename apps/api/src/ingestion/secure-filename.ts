/**
 * Port of Werkzeug's `secure_filename` (werkzeug/utils.py, 3.x) and of the Flask
 * backend's `document_name` derivation, so stored names stay what they were.
 *
 * Werkzeug, step by step:
 *   1. `unicodedata.normalize("NFKD", filename)`
 *   2. `.encode("ascii", "ignore")`: drop every non-ASCII code point
 *   3. replace `os.sep` and `os.path.altsep` by a space (`/` on POSIX; `\` and `/` on Windows)
 *   4. `"_".join(filename.split())`: whitespace runs → `_`, leading/trailing whitespace dropped
 *   5. remove everything outside `[A-Za-z0-9_.-]`
 *   6. `.strip("._")`
 *   7. on Windows only (`os.name == "nt"`): prefix `_` to device names (CON, PRN, AUX, NUL,
 *      COM0-9, LPT0-9), compared on the part before the first `.`, case-insensitively.
 *
 * Like Werkzeug, steps 3 and 7 depend on the platform; `options.windows` selects it and
 * defaults to the current platform (`process.platform === 'win32'`), so on Linux the
 * result is exactly what the Flask app produced on Linux. The result may be empty.
 */

export interface SecureFilenameOptions {
  /** Apply Windows rules (`\` is a separator, device names get a `_` prefix). Default: current platform. */
  windows?: boolean
}

const WINDOWS_DEVICE_NAMES = new Set([
  'CON', 'PRN', 'AUX', 'NUL',
  ...Array.from({ length: 10 }, (_, i) => `COM${i}`),
  ...Array.from({ length: 10 }, (_, i) => `LPT${i}`)
])

// Python's str.split() whitespace, restricted to ASCII (everything else is gone by then):
// \t \n \v \f \r, the information separators \x1c-\x1f, and space.
// eslint-disable-next-line no-control-regex
const PY_ASCII_WHITESPACE = /[\t\n\v\f\r\x1c-\x1f ]+/
// eslint-disable-next-line no-control-regex
const NON_ASCII = /[^\u0000-\u007f]/g
const UNSAFE = /[^A-Za-z0-9_.-]/g

export function secureFilename (filename: string, options: SecureFilenameOptions = {}): string {
  const windows = options.windows ?? process.platform === 'win32'
  let name = filename.normalize('NFKD').replace(NON_ASCII, '')
  name = name.replaceAll('/', ' ')
  if (windows) name = name.replaceAll('\\', ' ')
  name = name.split(PY_ASCII_WHITESPACE).filter((part) => part.length > 0).join('_')
  name = name.replace(UNSAFE, '')
  name = name.replace(/^[._]+|[._]+$/g, '')
  if (windows && WINDOWS_DEVICE_NAMES.has((name.split('.')[0] ?? '').toUpperCase())) {
    name = `_${name}`
  }
  return name
}

/**
 * The `document_name` clients see: the basename of the saved file with every `.pdf`
 * substring removed (case-sensitive, single left-to-right pass like Python's
 * `str.replace('.pdf', '')`): `report.pdf` → `report`, `a.pdf.pdf` → `a`,
 * `x.PDF` → `x.PDF`, `a..pdfpdf` → `a.pdf`.
 *
 * May return an empty string (e.g. for `.pdf`); the caller decides how to reject that.
 */
export function documentNameFromFilename (savedFilename: string): string {
  const basename = savedFilename.slice(savedFilename.lastIndexOf('/') + 1)
  return basename.replaceAll('.pdf', '')
}

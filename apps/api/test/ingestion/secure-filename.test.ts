import { describe, expect, it } from 'vitest'
import { documentNameFromFilename, secureFilename } from '../../src/ingestion/secure-filename.js'

const posix = (name: string): string => secureFilename(name, { windows: false })
const windows = (name: string): string => secureFilename(name, { windows: true })

describe('secureFilename (Werkzeug secure_filename port)', () => {
  it.each([
    // Contract examples
    ['My Report (v2).pdf', 'My_Report_v2.pdf'],
    ['日本.pdf', 'pdf'],
    ['../../etc/passwd', 'etc_passwd'],
    ['i contain cool \xfcml\xe4uts.txt', 'i_contain_cool_umlauts.txt'],
    // Werkzeug's own test cases
    ['My cool movie.mov', 'My_cool_movie.mov'],
    ['../../../etc/passwd', 'etc_passwd'],
    ['__filename__', 'filename'],
    ['foo$&^*)bar', 'foobar'],
    // More edge cases
    ['report.pdf', 'report.pdf'],
    ['  spaced\t\nout  name .pdf', 'spaced_out_name_.pdf'],
    ['a\x1cb\x1fc.pdf', 'a_b_c.pdf'], // Python's str.split() treats \x1c-\x1f as whitespace
    ['café résumé.pdf', 'cafe_resume.pdf'],
    ['ﬁnance ½.pdf', 'finance_12.pdf'], // NFKD compatibility decomposition (ligature, fraction)
    ['naïve\u00a0file.pdf', 'naive_file.pdf'], // NBSP decomposes to a space
    ['emoji 😀.pdf', 'emoji_.pdf'],
    ['.hidden.pdf', 'hidden.pdf'],
    ['...', ''],
    ['', ''],
    ['日本語', ''],
    ['/', ''],
    ['a/b/c.pdf', 'a_b_c.pdf'],
    ['..\\..\\windows\\system32.pdf', 'windowssystem32.pdf'], // backslash is not a separator on POSIX
    ['CON.pdf', 'CON.pdf'] // device names only matter on Windows
  ])('POSIX: %j -> %j', (input, expected) => {
    expect(posix(input)).toBe(expected)
  })

  it.each([
    ['..\\..\\windows\\system32.pdf', 'windows_system32.pdf'],
    ['CON', '_CON'],
    ['con.txt', '_con.txt'],
    ['nul', '_nul'],
    ['com1.txt.txt', '_com1.txt.txt'],
    ['LPT9.pdf', '_LPT9.pdf'],
    ['console.pdf', 'console.pdf'],
    ['My Report (v2).pdf', 'My_Report_v2.pdf']
  ])('Windows: %j -> %j', (input, expected) => {
    expect(windows(input)).toBe(expected)
  })

  it('defaults to the current platform', () => {
    expect(secureFilename('CON.pdf')).toBe(process.platform === 'win32' ? '_CON.pdf' : 'CON.pdf')
  })

  it('only ever returns [A-Za-z0-9_.-] without leading/trailing . or _', () => {
    const samples = ['ä/ö\\ü ß.pdf', ' \u3000全角 スペース.pdf', '\u0000nul\u0007bell.pdf', '-dash-.pdf', '._._x_._.']
    for (const s of samples) {
      const out = posix(s)
      expect(out).toMatch(/^[A-Za-z0-9_.-]*$/)
      expect(out).not.toMatch(/^[._]|[._]$/)
    }
  })
})

describe('documentNameFromFilename', () => {
  it.each([
    ['report.pdf', 'report'],
    ['a.pdf.pdf', 'a'],
    ['My_Report_v2.pdf', 'My_Report_v2'],
    ['my.pdfreport.pdf', 'myreport'],
    ['x.PDF', 'x.PDF'], // case-sensitive, like str.replace
    ['a..pdfpdf', 'a.pdf'], // single pass, like str.replace
    ['uploads/user1/report.pdf', 'report'],
    ['pdf', 'pdf'],
    ['.pdf', ''],
    ['', '']
  ])('%j -> %j', (input, expected) => {
    expect(documentNameFromFilename(input)).toBe(expected)
  })

  it('is empty only when the secured filename is empty', () => {
    // A secured name never starts with ".", so some character always survives.
    for (const name of ['.pdf', '..pdf', '.pdf.pdf', '日本.pdf', '_.pdf']) {
      const saved = posix(name)
      expect(documentNameFromFilename(saved).length > 0).toBe(saved.length > 0)
    }
    expect(documentNameFromFilename(posix('日本'))).toBe('')
  })
})

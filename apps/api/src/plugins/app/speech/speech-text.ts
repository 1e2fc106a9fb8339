/** Text handling around speech: the languages the UI offers, detection, and preparing markdown answers for a voice. */

export const SPEECH_LANGUAGES = { en: 'English', kn: 'Kannada', hi: 'Hindi' } as const
export type SpeechLanguage = keyof typeof SPEECH_LANGUAGES

function isSpeechLanguage (code: string): code is SpeechLanguage {
  return Object.hasOwn(SPEECH_LANGUAGES, code)
}

/** The script with the most letters wins; Kannada and Devanagari blocks map to kn and hi, the rest to English. */
export function detectLanguage (text: string): SpeechLanguage {
  let kannada = 0
  let devanagari = 0
  let other = 0
  for (const char of text) {
    const code = char.codePointAt(0)!
    if (code >= 0x0C80 && code <= 0x0CFF) kannada++
    else if (code >= 0x0900 && code <= 0x097F) devanagari++
    else if (/\p{L}/u.test(char)) other++
  }
  if (kannada > 0 && kannada >= devanagari && kannada >= other) return 'kn'
  if (devanagari > 0 && devanagari >= other) return 'hi'
  return 'en'
}

/** `auto` (or nothing) detects from the text, unsupported codes become English. */
export function resolveLanguage (requested: string | null | undefined, text: string): SpeechLanguage {
  const code = (requested ?? '').trim().toLowerCase()
  if (code === '' || code === 'auto') return detectLanguage(text)
  return isSpeechLanguage(code) ? code : 'en'
}

/** Whisper's verbose_json names the language ("english"); the API reports codes. */
const WHISPER_LANGUAGE_NAMES: Record<string, string> = { english: 'en', kannada: 'kn', hindi: 'hi' }

export function normalizeLanguageCode (value: string | undefined): string | undefined {
  const code = value?.trim().toLowerCase()
  if (code === undefined || code === '') return undefined
  return WHISPER_LANGUAGE_NAMES[code] ?? code
}

/** Whisper takes ISO-639-1 codes; anything else (and `auto`) lets it detect the language. */
export function whisperLanguage (value: string | undefined): string | undefined {
  const code = value?.trim().toLowerCase()
  return code !== undefined && /^[a-z]{2}$/.test(code) ? code : undefined
}

/** A table separator row such as `|---|:--:|`. */
const TABLE_RULE = /^[\s|:-]+$/

function cleanLine (line: string): string {
  if (TABLE_RULE.test(line) && line.includes('---')) return ''
  const text = line.replace(/^[ \t]{0,3}(?:#{1,6}|>+|[-*+]|\d{1,3}[.)])[ \t]+/, '')
  const row = /^[ \t]*\|(.*)\|[ \t]*$/.exec(text)
  // Table rows are read as comma-separated cells.
  if (row !== null) return `${(row[1] ?? '').split('|').map((c) => c.trim()).filter((c) => c !== '').join(', ')},`
  return text
}

/**
 * Markdown read aloud would spell out its syntax, so answers are reduced to plain sentences first.
 * Every pattern is linear or bounded, since /speak feeds it user text.
 */
export function cleanForSpeech (markdown: string): string {
  return markdown
    .replace(/```[^\n]{0,100}\n/g, '\n')
    .replace(/```/g, '')
    .replace(/`([^`\n]{0,500})`/g, '$1')
    .replace(/!?\[([^\]\n]{0,500})\]\([^)\s]{0,2000}\)/g, '$1')
    .replace(/<[^>\n]{1,200}>/g, ' ')
    .split('\n')
    .map(cleanLine)
    .join('\n')
    // Pipes left outside table rows; split and trim rather than a regex that rescans whitespace runs.
    .split('|').map((part) => part.trim()).join(', ')
    .replace(/\*\*|__|\*|~~/g, '')
    .replace(/(^|\s)_([^_\s][^_\n]{0,200}?)_(?=\s|$|[.,;:!?])/g, '$1$2')
    .replace(/[[\]]/g, '')
    .replace(/\s+/g, ' ')
    .trim()
}

/** Cuts at the last sentence end, else the last space, before `max` characters. */
export function truncateForSpeech (text: string, max: number): { text: string, truncated: boolean } {
  if (text.length <= max) return { text, truncated: false }
  const head = text.slice(0, max)
  const sentenceEnd = Math.max(head.lastIndexOf('. '), head.lastIndexOf('! '), head.lastIndexOf('? '), head.lastIndexOf('। '))
  if (sentenceEnd >= max / 2) return { text: head.slice(0, sentenceEnd + 1), truncated: true }
  const space = head.lastIndexOf(' ')
  return { text: (space >= max / 2 ? head.slice(0, space) : Array.from(head).slice(0, -1).join('')).trimEnd(), truncated: true }
}

/** Pieces of at most `max` characters, split after sentences where possible, then at spaces, then anywhere. */
export function splitForSynthesis (text: string, max: number): string[] {
  const pieces: string[] = []
  let rest = text.trim()
  while (rest.length > max) {
    const head = rest.slice(0, max + 1)
    let cut = -1
    for (const match of head.matchAll(/[.!?।](?=\s)/g)) {
      if (match.index < max) cut = match.index + 1
    }
    if (cut < max / 3) {
      const space = head.lastIndexOf(' ')
      cut = space > 0 ? space : max
    }
    // Never cut a surrogate pair in half.
    const code = rest.charCodeAt(cut - 1)
    if (code >= 0xD800 && code <= 0xDBFF) cut--
    const piece = rest.slice(0, cut).trim()
    if (piece !== '') pieces.push(piece)
    rest = rest.slice(cut).trim()
  }
  if (rest !== '') pieces.push(rest)
  return pieces
}

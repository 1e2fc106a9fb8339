/**
 * Deterministic "LLM": answers a chat request from the `[Page N]`-tagged
 * context found in the prompt. The exact rule is documented in README.md
 * ("Deterministic answer rule") — keep the two in sync.
 */

export interface ChatMessageLike {
  role?: unknown
  content?: unknown
}

export interface ContextChunk {
  /** Page number from the tag. */
  page: number
  /** The tag exactly as it appeared in the prompt, e.g. `[Page 3]`. */
  tag: string
  /** Chunk text (whitespace collapsed). */
  text: string
}

export type AnswerKind = 'grounded' | 'echo'

export interface MockAnswer {
  content: string
  kind: AnswerKind
  /** The chunk the answer was taken from (grounded answers only). */
  chunk?: ContextChunk
  /** The question the answer was matched against. */
  question: string
}

export const GROUNDED_PREFIX = 'According to the documents:'
export const ECHO_PREFIX = 'Mock answer:'
export const MAX_SENTENCE_CHARS = 300
export const MAX_ECHO_CHARS = 500

/** Any bracketed text containing `page <digits>`, e.g. `[Page 3]` or `[report.pdf, page 3]`. */
const TAG_RE = /\[([^[\]\n]*?\bpage\s+(\d+)\b[^[\]\n]*)\]/gi
/** A line that starts the question or ends the context block: ends the current chunk. */
const CHUNK_END_RE = /^[ \t]*(?:(?:user\s+)?question\s*:|q\s*:|<\/[\w-]+>[ \t]*$|-{3,}[ \t]*$|={3,}[ \t]*$)/im
/** Question label inside a user message carrying context. */
const QUESTION_RE = /^[ \t]*(?:user\s+)?(?:question|q)\s*:[ \t]*/gim

const STOPWORDS = new Set([
  'a', 'about', 'according', 'all', 'also', 'am', 'an', 'and', 'any', 'are', 'as', 'at', 'be', 'been', 'being',
  'but', 'by', 'can', 'context', 'could', 'did', 'do', 'does', 'document', 'documents', 'for', 'from', 'had', 'has', 'have',
  'he', 'her', 'here', 'his', 'how', 'i', 'if', 'in', 'into', 'is', 'it', 'its', 'me', 'might', 'must', 'my', 'no',
  'not', 'of', 'on', 'or', 'our', 'page', 'please', 'say', 'says', 'she', 'should', 'so', 'some', 'tell', 'than',
  'that', 'the', 'their', 'them', 'then', 'there', 'these', 'they', 'this', 'those', 'to', 'us', 'was', 'we',
  'were', 'what', 'when', 'where', 'which', 'who', 'whom', 'whose', 'why', 'will', 'with', 'would', 'you', 'your'
])

/** Text of a message `content` (a string or an array of `{ type: 'text', text }` parts). */
export function messageText (content: unknown): string {
  if (typeof content === 'string') return content
  if (Array.isArray(content)) {
    return content
      .map((p: unknown) => {
        if (typeof p === 'string') return p
        if (p !== null && typeof p === 'object' && typeof (p as { text?: unknown }).text === 'string') {
          return (p as { text: string }).text
        }
        return ''
      })
      .filter((s) => s.length > 0)
      .join('\n')
  }
  return ''
}

function collapse (s: string): string {
  return s.replace(/\s+/g, ' ').trim()
}

/** Lower-cased content words: letters/digits runs, stopwords and 1-char words dropped, a trailing `s` stripped from words longer than 3. */
export function terms (s: string): Set<string> {
  const out = new Set<string>()
  for (const m of s.toLowerCase().matchAll(/[\p{L}\p{N}]+/gu)) {
    let w = m[0]
    if (w.length < 2 || STOPWORDS.has(w)) continue
    if (w.length > 3 && w.endsWith('s')) w = w.slice(0, -1)
    out.add(w)
  }
  return out
}

function overlap (q: Set<string>, text: string): number {
  let n = 0
  for (const t of terms(text)) if (q.has(t)) n++
  return n
}

/** Splits a text into `[Page N]`-tagged chunks (text before the first tag is ignored). */
export function extractChunks (text: string): ContextChunk[] {
  const tags = [...text.matchAll(TAG_RE)]
  const chunks: ContextChunk[] = []
  tags.forEach((m, i) => {
    const start = (m.index ?? 0) + m[0].length
    const next = tags[i + 1]
    let body = text.slice(start, next?.index ?? text.length)
    const end = CHUNK_END_RE.exec(body)
    if (end !== null) body = body.slice(0, end.index)
    chunks.push({ page: Number(m[2]), tag: m[0], text: collapse(body).replace(/^[:\-–—|]+\s*/, '') })
  })
  return chunks
}

/** Sentences of a (collapsed) text: split after `.`, `!` or `?` followed by whitespace. */
export function sentences (text: string): string[] {
  return text.split(/(?<=[.!?])\s+/).map((s) => s.trim()).filter((s) => s.length > 0)
}

function capSentence (s: string): string {
  if (s.length <= MAX_SENTENCE_CHARS) return s
  const cut = s.slice(0, MAX_SENTENCE_CHARS)
  const sp = cut.lastIndexOf(' ')
  return `${(sp > 0 ? cut.slice(0, sp) : cut).trimEnd()}…`
}

function lastUserIndex (messages: readonly ChatMessageLike[]): number {
  for (let i = messages.length - 1; i >= 0; i--) if (messages[i]?.role === 'user') return i
  return -1
}

/**
 * The question: the last user message, or — if it carries tagged context — the
 * text after its last `Question:` / `Q:` label (up to the next tag), else the
 * text before its first tag (else the whole message).
 */
export function extractQuestion (userText: string): string {
  TAG_RE.lastIndex = 0
  const hasTags = TAG_RE.test(userText)
  TAG_RE.lastIndex = 0
  if (!hasTags) return collapse(userText)
  const labels = [...userText.matchAll(QUESTION_RE)]
  const last = labels[labels.length - 1]
  if (last !== undefined) {
    const rest = userText.slice((last.index ?? 0) + last[0].length)
    const tag = rest.search(TAG_RE)
    return collapse(tag >= 0 ? rest.slice(0, tag) : rest)
  }
  const first = userText.search(TAG_RE)
  const before = collapse(userText.slice(0, Math.max(0, first)))
  return before.length > 0 ? before : collapse(userText)
}

/** Builds the deterministic answer for a list of chat messages. */
export function buildAnswer (messages: readonly ChatMessageLike[]): MockAnswer {
  const ui = lastUserIndex(messages)
  const userText = ui >= 0 ? messageText(messages[ui]?.content) : ''
  const question = extractQuestion(userText)

  // Context: system/developer messages (in order) then the last user message.
  const chunks: ContextChunk[] = []
  messages.forEach((m, i) => {
    if (m.role === 'system' || m.role === 'developer' || i === ui) chunks.push(...extractChunks(messageText(m.content)))
  })
  const usable = chunks.filter((c) => c.text.length > 0)

  if (usable.length === 0) {
    const echo = question.length > 0 ? question : '(no user message)'
    const capped = echo.length > MAX_ECHO_CHARS ? `${echo.slice(0, MAX_ECHO_CHARS)}…` : echo
    return { content: `${ECHO_PREFIX} ${capped}`, kind: 'echo', question }
  }

  const q = terms(question)
  let best = usable[0] as ContextChunk
  let bestScore = -1
  for (const c of usable) {
    const s = overlap(q, c.text)
    if (s > bestScore) { best = c; bestScore = s }
  }
  const sents = sentences(best.text)
  let sentence = sents[0] ?? best.text
  let sentScore = -1
  for (const s of sents) {
    const sc = overlap(q, s)
    if (sc > sentScore) { sentence = s; sentScore = sc }
  }
  return {
    content: `${GROUNDED_PREFIX} ${capSentence(sentence)} ${best.tag}`,
    kind: 'grounded',
    chunk: best,
    question
  }
}

/** Rough token estimate used for `usage` (≈ 4 characters per token, at least 1 for non-empty text). */
export function estimateTokens (text: string): number {
  return text.length === 0 ? 0 : Math.max(1, Math.ceil(text.length / 4))
}

// Text helpers of the answering pipeline: question analysis, context selection, snippets, and the
// offline extractive answerer. Pure functions, so they are cheap to test and reuse.

export type QueryType = 'general' | 'table' | 'image' | 'factual' | 'conceptual' | 'error' | 'unknown'

/** Words that carry no meaning for matching (Postgres' english config drops most of them too). */
const STOPWORDS = new Set((
  'a about above after again against all am an and any are as at be because been before being below between both but by ' +
  'can could did do does doing down during each few for from further had has have having he her here hers him his how ' +
  'i if in into is it its itself just me more most my no nor not now of off on once only or other our ours out over own ' +
  'same she should so some such than that the their theirs them then there these they this those through to too under ' +
  'until up very was we were what when where which while who whom why will with would you your yours ' +
  'tell please give show explain describe list document documents pdf file page pages say says said mention mentioned'
).split(' '))

/** A crude English stem, enough to match "prices"/"price" and "irrigated"/"irrigate" in both directions. */
export function stem (word: string): string {
  let w = word.toLowerCase()
  if (w.length > 4 && w.endsWith('ies')) w = `${w.slice(0, -3)}y`
  else if (w.length > 4 && /(ss|x|z|ch|sh)es$/.test(w)) w = w.slice(0, -2)
  else if (w.length > 3 && w.endsWith('s') && !/(ss|us|is)$/.test(w)) w = w.slice(0, -1)
  if (w.length > 5 && w.endsWith('ing')) w = w.slice(0, -3)
  else if (w.length > 4 && w.endsWith('ed')) w = w.slice(0, -2)
  if (w.length > 4 && w.endsWith('e')) w = w.slice(0, -1)
  return w
}

export function words (text: string): string[] {
  return text.match(/[\p{L}\p{N}]+/gu) ?? []
}

/** Distinct stems of the question's meaningful words. */
export function questionTerms (question: string): string[] {
  const terms = new Set<string>()
  for (const word of words(question)) {
    const lower = word.toLowerCase()
    if (lower.length < 2 || STOPWORDS.has(lower)) continue
    terms.add(stem(lower))
  }
  return [...terms]
}

/** More characters (code points, as a person counts them) than `max`; reads at most max + 1 of them. */
export function isLongerThan (text: string, max: number): boolean {
  if (text.length <= max) return false
  // A surrogate pair is one character; a lone surrogate counts as one too.
  let count = 0
  for (let i = 0; i < text.length; i += text.codePointAt(i)! > 0xffff ? 2 : 1) {
    if (++count > max) return true
  }
  return false
}

/**
 * Distinct words a full-text query is built from at most. PostgreSQL parses the query into a tree
 * with one node per word: thousands of words end in "stack depth limit exceeded" or "value is too
 * big in tsquery", while a question's first few dozen meaningful words already say what it is about.
 */
export const MAX_SEARCH_TERMS = 32
/** A longer "word" (a run of letters) is no term anyone searches for; PostgreSQL ignores those over 2047 bytes anyway. */
const MAX_TERM_CHARS = 64

/** The question's first meaningful words, each once (in any case), without the websearch operator "or". */
function searchWords (question: string): string[] {
  const seen = new Set<string>()
  const list: string[] = []
  // Stops at the cap: the question may be long (an earlier question of the history is added to follow-ups).
  for (const [word] of question.matchAll(/[\p{L}\p{N}]+/gu)) {
    const lower = word.toLowerCase()
    if (word.length > MAX_TERM_CHARS || lower === 'or' || STOPWORDS.has(lower) || seen.has(lower)) continue
    seen.add(lower)
    list.push(word)
    if (list.length === MAX_SEARCH_TERMS) break
  }
  return list
}

/**
 * Full-text queries in websearch syntax: every meaningful word first, then any of them. Empty when the
 * question has no meaningful word. Valid for any question: websearch syntax is made of quotes, a
 * leading "-", the word "or" and white space, and the words here are runs of letters and digits
 * other than "or", joined by spaces (or by " or "); their number and length are bounded.
 */
export function searchQueries (question: string): { all: string, any: string } {
  const list = searchWords(question)
  return { all: list.join(' '), any: list.join(' or ') }
}

export function classifyQuery (question: string): QueryType {
  const q = question.toLowerCase().trim()
  if (/\b(tables?|columns?|rows?|tabular|spreadsheets?)\b/.test(q)) return 'table'
  if (/\b(images?|figures?|pictures?|diagrams?|charts?|graphs?|photos?|illustrations?)\b/.test(q)) return 'image'
  if (/^(how (many|much|long|old|often)|when|who|where|which)\b/.test(q)) return 'factual'
  if (/^(why|how)\b/.test(q) || /\b(explain|describe|compare|difference|relationship|meaning)\b/.test(q)) return 'conceptual'
  if (/^(what|is|are|does|do|did|list|name)\b/.test(q)) return 'factual'
  return 'general'
}

/** Questions about the document as a whole, answered from its beginning when no words match. */
export function isOverviewQuestion (question: string): boolean {
  return /\b(summar\w*|overview|main (points?|ideas?|topics?)|gist|outline|introduc\w*|key (points?|takeaways?))\b/i.test(question) ||
    /\bwhat('s|\s+is|\s+are)?\s+(this|the|these|it)(\s+\w+)?\s+about\b/i.test(question)
}

/** Questions that lean on the conversation ("when did it happen?", "what about the second one?"). */
export function isFollowUp (question: string): boolean {
  return /\b(it|its|that|this|those|these|they|them|their|he|she|his|her|there|more|else|again)\b/i.test(question) ||
    /^\s*(and|also|what about|how about)\b/i.test(question)
}

/** Questions that ask for a long answer get 2000 tokens instead of 500. */
export function wantsLongAnswer (question: string): boolean {
  return /\b(summar\w*|explain\w*|describe\w*|detail\w*|elaborat\w*|long)\b/i.test(question)
}

/** How many of the (stemmed) terms occur in the text. */
export function matchCount (text: string, terms: readonly string[]): number {
  if (terms.length === 0) return 0
  const stems = new Set(words(text).map(stem))
  return terms.filter((t) => stems.has(t)).length
}

/** Share of the question's terms found in the texts (0..1; 1 when the question has no terms). */
export function termCoverage (texts: readonly string[], terms: readonly string[]): number {
  if (terms.length === 0) return 1
  return matchCount(texts.join(' '), terms) / terms.length
}

function firstMatchIndex (text: string, terms: readonly string[]): number {
  if (terms.length === 0) return -1
  const wanted = new Set(terms)
  const re = /[\p{L}\p{N}]+/gu
  let m: RegExpExecArray | null
  while ((m = re.exec(text)) !== null) {
    if (wanted.has(stem(m[0]))) return m.index
  }
  return -1
}

/** About `length` characters of `text` around its first match, cut at word boundaries. */
export function windowAround (text: string, terms: readonly string[], length: number): string {
  if (text.length <= length) return text
  const hit = Math.max(0, firstMatchIndex(text, terms))
  let start = Math.max(0, Math.min(hit - Math.floor(length / 3), text.length - length))
  let end = Math.min(text.length, start + length)
  if (start > 0) {
    const space = text.indexOf(' ', start)
    start = space === -1 || space >= end ? start : space + 1
  }
  if (end < text.length) {
    const space = text.lastIndexOf(' ', end)
    end = space > start ? space : end
  }
  return `${start > 0 ? '…' : ''}${text.slice(start, end)}${end < text.length ? '…' : ''}`
}

export const SNIPPET_CHARS = 200

export interface ContextChunk {
  document: string
  page: number
  text: string
}

/**
 * Takes ranked chunks while they fit the budget (at most `topK`); a chunk larger than what is left is
 * narrowed to the window around the question's words, so one huge page cannot crowd out the rest.
 */
export function selectContext<T extends { content: string }> (ranked: readonly T[], terms: readonly string[], budgetChars: number, topK: number): Array<{ chunk: T, text: string }> {
  const selected: Array<{ chunk: T, text: string }> = []
  let used = 0
  for (const chunk of ranked) {
    if (selected.length >= topK) break
    const left = budgetChars - used
    if (left < 200 && selected.length > 0) break
    const text = windowAround(chunk.content, terms, Math.max(left, 200))
    selected.push({ chunk, text })
    used += text.length
  }
  return selected
}

/** The tag the prompt and the extractive answer put on a chunk. */
export function pageTag (page: number, document: string | undefined): string {
  return document === undefined ? `[Page ${page}]` : `[${document}, Page ${page}]`
}

function sentences (text: string): string[] {
  return text.split(/(?<=[.!?])\s+/u).map((s) => s.trim()).filter((s) => s.length > 0)
}

const MAX_SENTENCE_CHARS = 400
const EXTRACTIVE_SENTENCES = 3

function clip (sentence: string): string {
  if (sentence.length <= MAX_SENTENCE_CHARS) return sentence
  const cut = sentence.lastIndexOf(' ', MAX_SENTENCE_CHARS)
  return `${sentence.slice(0, cut > 0 ? cut : MAX_SENTENCE_CHARS)}…`
}

/**
 * The offline answer (no GROQ_API_KEY): the sentences of the context that share the most words with the
 * question, in order of relevance, each with its page tag. Without any shared word (an overview
 * question), the opening sentences of the best chunk.
 */
export function extractiveAnswer (question: string, context: ReadonlyArray<ContextChunk & { tagDocument?: string }>): string {
  const terms = questionTerms(question)
  const scored: Array<{ text: string, tag: string, score: number, order: number }> = []
  context.forEach((chunk, chunkOrder) => {
    sentences(chunk.text).forEach((text, i) => {
      scored.push({ text, tag: pageTag(chunk.page, chunk.tagDocument), score: matchCount(text, terms), order: chunkOrder * 10_000 + i })
    })
  })
  // Sentences matching more than half as many words as the best one, most relevant first.
  const best = Math.max(0, ...scored.map((s) => s.score))
  let picked = scored.filter((s) => s.score > 0 && s.score * 2 > best).sort((a, b) => b.score - a.score || a.order - b.order).slice(0, EXTRACTIVE_SENTENCES)
  if (picked.length === 0) picked = scored.slice(0, EXTRACTIVE_SENTENCES)
  const seen = new Set<string>()
  const lines = picked.filter((s) => !seen.has(s.text) && seen.add(s.text)).map((s) => `- ${clip(s.text)} ${s.tag}`)
  return `Based on your documents:\n\n${lines.join('\n')}`
}

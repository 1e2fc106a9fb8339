import {
  matchCount, questionTerms, searchQueries, selectContext, isFollowUp, isOverviewQuestion, SNIPPET_CHARS, termCoverage, windowAround
} from '../../../lib/answer-text.js'
import type { DocumentRef, DocumentsRepository, RetrievedChunk } from '../documents/documents-repository.js'

// Retrieval for the answering pipeline (answering.ts): the chunks of the user's documents that a
// question is about, and the context, citations and confidence built from them.

export interface Retrieval {
  chunks: RetrievedChunk[]
  /** How the chunks were found: every word, any word, or the document's opening (overview questions). */
  tier: 'all' | 'any' | 'overview' | 'none'
}

export interface ContextPiece {
  document: string
  page: number
  text: string
  /** The document named in the page tag when the context spans several documents. */
  tagDocument: string | undefined
}

export interface Source {
  document: string
  page: number
  snippet: string
}

const TIER_WEIGHT = { all: 1, any: 0.75, overview: 0.35, none: 0 } as const

function round2 (value: number): number {
  return Math.round(value * 100) / 100
}

export class AnswerRetrieval {
  constructor (private readonly documents: DocumentsRepository, private readonly topK: number, private readonly contextChars: number) {}

  async retrieve (targets: readonly DocumentRef[], question: string, previousQuestion: string | undefined): Promise<Retrieval> {
    const ids = targets.map((t) => t.id)
    if (ids.length === 0) return { chunks: [], tier: 'none' }
    // Twice top-k candidates: the context budget may leave some out.
    const limit = this.topK * 2
    const queries = searchQueries(question)
    if (queries.all !== '') {
      const all = await this.documents.searchChunks(ids, queries.all, limit)
      if (all.length > 0) return { chunks: all, tier: 'all' }
      const any = await this.documents.searchChunks(ids, queries.any, limit)
      if (any.length > 0) {
        // Any-word matches include chunks sharing one incidental word: keep those matching more than
        // half as many of the question's words as the best chunk.
        const terms = questionTerms(question)
        const counts = any.map((c) => matchCount(c.content, terms))
        const best = Math.max(...counts)
        return { chunks: best === 0 ? any : any.filter((_, i) => counts[i]! * 2 > best), tier: 'any' }
      }
    }
    const overview = async (): Promise<Retrieval> => {
      const leading = await this.documents.leadingChunks(ids, this.topK)
      return { chunks: leading, tier: leading.length > 0 ? 'overview' : 'none' }
    }
    if (isOverviewQuestion(question)) return await overview()
    // "When did it happen?" after "Tell me about Krakatoa": the previous question names the subject.
    if (previousQuestion !== undefined && isFollowUp(question)) {
      // This question's words first: the query keeps only the first MAX_SEARCH_TERMS words.
      const followUp = searchQueries(`${question} ${previousQuestion}`)
      const chunks = followUp.any === '' ? [] : await this.documents.searchChunks(ids, followUp.any, limit)
      if (chunks.length > 0) return { chunks, tier: 'any' }
    }
    if (queries.all === '') return await overview()
    return { chunks: [], tier: 'none' }
  }

  /**
   * The context given to the answerer (within ASK_CONTEXT_CHARS and top-k), its citations (one per
   * document and page) and the confidence: how the chunks were found times how much of the question
   * they cover.
   */
  context (retrieval: Retrieval, refs: readonly DocumentRef[], question: string): { context: ContextPiece[], sources: Source[], confidence: number } {
    const terms = questionTerms(question)
    const selected = selectContext(retrieval.chunks, terms, this.contextChars, this.topK)
    const names = new Map(refs.map((r) => [r.id, r.name]))
    const multiDocument = new Set(selected.map((s) => s.chunk.documentId)).size > 1
    const context = selected.map(({ chunk, text }) => {
      const document = names.get(chunk.documentId) ?? ''
      return { document, page: chunk.page, text, tagDocument: multiDocument ? document : undefined }
    })
    const sources = dedupeSources(context.map((c) => ({ document: c.document, page: c.page, snippet: windowAround(c.text, terms, SNIPPET_CHARS) })))
    const coverage = termCoverage(context.map((c) => c.text), terms)
    return { context, sources, confidence: round2(Math.min(0.95, TIER_WEIGHT[retrieval.tier] * (0.35 + 0.6 * coverage))) }
  }
}

function dedupeSources (sources: Source[]): Source[] {
  const seen = new Set<string>()
  return sources.filter((s) => {
    const key = `${s.document}\u0000${s.page}`
    if (seen.has(key)) return false
    seen.add(key)
    return true
  })
}

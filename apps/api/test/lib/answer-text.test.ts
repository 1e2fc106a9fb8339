import { describe, expect, it } from 'vitest'
import {
  classifyQuery, extractiveAnswer, isFollowUp, isLongerThan, isOverviewQuestion, MAX_SEARCH_TERMS, questionTerms, searchQueries, selectContext, stem,
  wantsLongAnswer, windowAround
} from '../../src/lib/answer-text.js'

describe('answer text helpers', () => {
  it('builds full-text queries from meaningful words only', () => {
    expect(searchQueries('What does the document say about "revenue" growth in Q3?')).toEqual({ all: 'revenue growth Q3', any: 'revenue or growth or Q3' })
    // Operators and quotes of websearch syntax cannot be smuggled in.
    expect(searchQueries('-secret OR "x" y:z')).toEqual({ all: 'secret x y z', any: 'secret or x or y or z' })
    expect(searchQueries('what is this about?')).toEqual({ all: '', any: '' })
  })

  it('builds full-text queries from a bounded number of distinct, short words', () => {
    // 100,000 words (about 1 MB): the query keeps the first MAX_SEARCH_TERMS distinct ones.
    const many = Array.from({ length: 100_000 }, (_, i) => `word${i % 5000}`).join(' ')
    const { all, any } = searchQueries(many)
    expect(all.split(' ')).toEqual(Array.from({ length: MAX_SEARCH_TERMS }, (_, i) => `word${i}`))
    expect(any).toBe(all.split(' ').join(' or '))
    // Repeats (in any case) count once; "or" in any case is never a term; over-long runs of letters are no words.
    expect(searchQueries('Lamp lamp LAMP lamps '.repeat(5000)).all).toBe('Lamp lamps')
    expect(searchQueries('OR Or oR lamp').all).toBe('lamp')
    expect(searchQueries(`${'a'.repeat(65)} lamp ${'ಕ'.repeat(64)}`).all).toBe(`lamp ${'ಕ'.repeat(64)}`)
    expect(searchQueries('&|!<->:*()\'"\\ \u0000 \ud800 🦄')).toEqual({ all: '', any: '' })
  })

  it('counts question characters as code points', () => {
    expect(isLongerThan('🦄'.repeat(3), 3)).toBe(false)
    expect(isLongerThan('🦄'.repeat(4), 3)).toBe(true)
    expect(isLongerThan('abc', 3)).toBe(false)
    expect(isLongerThan('abcd', 3)).toBe(true)
    expect(isLongerThan('\ud800\ud800\ud800', 3)).toBe(false)
  })

  it('stems plurals and verb forms alike', () => {
    expect(stem('prices')).toBe(stem('price'))
    expect(stem('irrigated')).toBe(stem('irrigate'))
    expect(stem('policies')).toBe(stem('policy'))
    expect(stem('boxes')).toBe(stem('box'))
    expect(stem('happens')).toBe(stem('happen'))
    expect(questionTerms('Which apples were irrigated?')).toEqual([stem('apple'), stem('irrigate')])
  })

  it('classifies questions into the query types clients show', () => {
    expect(classifyQuery('Show the table of results')).toBe('table')
    expect(classifyQuery('What does figure 2 show?')).toBe('image')
    expect(classifyQuery('How many pages are there?')).toBe('factual')
    expect(classifyQuery('Why did the eruption happen?')).toBe('conceptual')
    expect(classifyQuery('What is the capital?')).toBe('factual')
    expect(classifyQuery('Krakatoa')).toBe('general')
    expect(isOverviewQuestion('Summarize this document')).toBe(true)
    expect(isOverviewQuestion('What is this document about?')).toBe(true)
    expect(isOverviewQuestion('Tell me more about it')).toBe(false)
    expect(isOverviewQuestion('When was it built?')).toBe(false)
    expect(isFollowUp('When did it happen?')).toBe(true)
    expect(isFollowUp('And the second one?')).toBe(true)
    expect(isFollowUp('quantum chromodynamics')).toBe(false)
    expect(wantsLongAnswer('Explain the method in detail')).toBe(true)
    expect(wantsLongAnswer('Who wrote it?')).toBe(false)
  })

  it('narrows long text to the window around the question\'s words', () => {
    const text = `${'filler '.repeat(200)}the volcano erupted in 1883 ${'tail '.repeat(200)}`
    const window = windowAround(text, ['volcano'], 100)
    expect(window).toContain('volcano erupted in 1883')
    expect(window.startsWith('…')).toBe(true)
    expect(window.endsWith('…')).toBe(true)
    expect(window.length).toBeLessThanOrEqual(102)
  })

  it('keeps the context within its budget and top-k', () => {
    const ranked = Array.from({ length: 8 }, (_, i) => ({ id: i, content: `chunk ${i} `.repeat(100) }))
    const selected = selectContext(ranked, ['chunk'], 2500, 5)
    expect(selected.length).toBeLessThanOrEqual(5)
    expect(selected.reduce((n, s) => n + s.text.length, 0)).toBeLessThanOrEqual(2500 + 200)
    expect(selected[0]!.chunk.id).toBe(0)
  })

  it('answers extractively with the best sentences and their pages', () => {
    const answer = extractiveAnswer('When did Krakatoa erupt?', [
      { document: 'd', page: 1, text: 'Apples grow here. Nothing about volcanoes.' },
      { document: 'd', page: 7, text: 'Krakatoa began to erupt in May 1883. It was loud.' }
    ])
    expect(answer).toBe('Based on your documents:\n\n- Krakatoa began to erupt in May 1883. [Page 7]')
    const multi = extractiveAnswer('Krakatoa', [{ document: 'notes', page: 2, text: 'Krakatoa.', tagDocument: 'notes' }])
    expect(multi).toContain('[notes, Page 2]')
  })
})

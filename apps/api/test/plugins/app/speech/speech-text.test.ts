import { describe, expect, it } from 'vitest'
import { cleanForSpeech, detectLanguage, resolveLanguage, splitForSynthesis, truncateForSpeech } from '../../../../src/plugins/app/speech/speech-text.js'
import { joinWavs, readWav, wavDuration } from '../../../../src/plugins/app/speech/speech-wav.js'
import { loadConfig } from '../../../../src/config.js'
import { wavWithTranscript } from '../../../helpers/voice.js'

describe('speech text preparation', () => {
  it('splits long text into pieces within the limit, at sentence ends first, losing no word', () => {
    const text = 'word '.repeat(10) + 'End of the sentence. ' + 'word '.repeat(80) + 'Final line here! And a tail.'
    const pieces = splitForSynthesis(text, 100)
    for (const piece of pieces) expect(piece.length).toBeLessThanOrEqual(100)
    expect(pieces[0]).toBe(`${'word '.repeat(10)}End of the sentence.`)
    // A sentence end too early in the piece is not worth a short piece: the cut goes to the last space.
    expect(splitForSynthesis('Short. ' + 'word '.repeat(40), 100)[0]).toHaveLength(96)
    expect(pieces.join(' ').split(/\s+/)).toEqual(text.trim().split(/\s+/))
    // No spaces at all: hard cuts, never through a surrogate pair.
    const emoji = '😀'.repeat(60)
    const cut = splitForSynthesis(emoji, 25)
    expect(cut.join('')).toBe(emoji)
    for (const piece of cut) expect(piece.length).toBeLessThanOrEqual(25)
    for (const piece of cut) expect(Array.from(piece).every((c) => c === '😀')).toBe(true)
  })

  it('truncates at a sentence end or a space', () => {
    expect(truncateForSpeech('short', 100)).toEqual({ text: 'short', truncated: false })
    expect(truncateForSpeech('One two three four five. Six seven eight nine', 30)).toEqual({ text: 'One two three four five.', truncated: true })
    expect(truncateForSpeech('alpha beta gamma delta epsilon zeta', 20)).toEqual({ text: 'alpha beta gamma', truncated: true })
  })

  it('reduces markdown to what should be said', () => {
    expect(cleanForSpeech('# Title\n\n- **bold** item\n- `code` item\n\n| a | b |\n|---|---|\n| 1 | 2 |\n\nSee [docs](http://x) [Page 4].'))
      .toBe('Title bold item code item a, b, 1, 2, See docs Page 4.')
    expect(cleanForSpeech('snake_case_name stays, _emphasis_ goes')).toBe('snake_case_name stays, emphasis goes')
  })

  it('detects Kannada and Hindi by script and maps unsupported codes to English', () => {
    expect(detectLanguage('ನಮಸ್ಕಾರ, how are you')).toBe('en')
    expect(detectLanguage('ನಮಸ್ಕಾರ ಹೇಗಿದ್ದೀರಿ')).toBe('kn')
    expect(detectLanguage('नमस्ते दुनिया')).toBe('hi')
    expect(detectLanguage('12345 !!!')).toBe('en')
    expect(resolveLanguage('auto', 'नमस्ते')).toBe('hi')
    expect(resolveLanguage(undefined, 'नमस्ते')).toBe('hi')
    expect(resolveLanguage('KN', 'hello')).toBe('kn')
    expect(resolveLanguage('de', 'hallo')).toBe('en')
  })
})

describe('WAV handling', () => {
  it('reads the duration, also of streamed WAVs whose data size is unknown', () => {
    const wav = wavWithTranscript('x', 0.5)
    expect(wavDuration(wav)).toBe(0.5)
    const streamed = Buffer.from(wav.subarray(0, 44 + 16000))
    streamed.writeUInt32LE(0xFFFFFFFF, 40)
    expect(wavDuration(streamed)).toBe(0.5)
    expect(wavDuration(Buffer.from('not a wav at all'))).toBeNull()
  })

  it('joins clips into one canonical WAV, keeps a single clip untouched, refuses mixed formats', () => {
    const a = wavWithTranscript('a', 0.25)
    const b = wavWithTranscript('b', 0.5)
    expect(joinWavs([a])).toBe(a)
    const joined = joinWavs([a, b])
    const layout = readWav(joined)!
    expect(layout.dataOffset).toBe(44)
    expect(joined.length).toBe(44 + 8000 + 16000)
    expect(wavDuration(joined)).toBe(0.75)
    expect(joined.subarray(44, 44 + 8000).equals(a.subarray(44, 44 + 8000))).toBe(true)
    expect(joined.subarray(44 + 8000).equals(b.subarray(44, 44 + 16000))).toBe(true)
    const other = Buffer.from(b)
    other.writeUInt32LE(22050, 24)
    expect(() => joinWavs([a, other])).toThrow(/different formats/)
  })
})

describe('voice configuration', () => {
  it('has the documented defaults; ESPEAK_NG_PATH=off disables the local engine, empty means the default', () => {
    expect(loadConfig({}).speech).toEqual({
      sttModel: 'whisper-large-v3-turbo',
      ttsModel: 'canopylabs/orpheus-v1-english',
      ttsVoice: 'troy',
      groqTtsMaxInputChars: 200,
      espeakPath: 'espeak-ng',
      maxChars: 2000,
      concurrency: 2,
      queueMax: 50,
      audioTtlHours: 24
    })
    expect(loadConfig({ ESPEAK_NG_PATH: 'off' }).speech.espeakPath).toBe('')
    expect(loadConfig({ ESPEAK_NG_PATH: '' }).speech.espeakPath).toBe('espeak-ng')
    expect(loadConfig({ ESPEAK_NG_PATH: '/opt/bin/espeak-ng', AUDIO_TTL_HOURS: '0.5' }).speech).toMatchObject({ espeakPath: '/opt/bin/espeak-ng', audioTtlHours: 0.5 })
    expect(() => loadConfig({ TTS_CONCURRENCY: '0' })).toThrow()
  })
})

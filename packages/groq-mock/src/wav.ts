/**
 * Minimal PCM WAV (RIFF/WAVE) writer and reader, plus the deterministic tone
 * generator used by the mock `/audio/speech` endpoint.
 */

export interface WavChunk {
  /** Four-character chunk id, e.g. `LIST`. */
  id: string
  data: Buffer
}

export interface EncodeWavOptions {
  sampleRate: number
  /** Chunks written after the `data` chunk (so the canonical 44-byte header stays intact). */
  trailingChunks?: WavChunk[]
}

/** Encodes 16-bit mono PCM samples as a WAV file. */
export function encodeWav (samples: Int16Array, options: EncodeWavOptions): Buffer {
  const { sampleRate } = options
  const channels = 1
  const bitsPerSample = 16
  const blockAlign = channels * bitsPerSample / 8
  const byteRate = sampleRate * blockAlign
  const dataSize = samples.length * blockAlign
  const dataPad = dataSize % 2
  const trailing = (options.trailingChunks ?? []).map((c) => {
    if (c.id.length !== 4) throw new Error(`WAV chunk id must have 4 characters: ${c.id}`)
    return c
  })
  const trailingSize = trailing.reduce((n, c) => n + 8 + c.data.length + (c.data.length % 2), 0)
  const total = 44 + dataSize + dataPad + trailingSize
  const buf = Buffer.alloc(total)
  buf.write('RIFF', 0, 'ascii')
  buf.writeUInt32LE(total - 8, 4)
  buf.write('WAVE', 8, 'ascii')
  buf.write('fmt ', 12, 'ascii')
  buf.writeUInt32LE(16, 16) // fmt chunk size
  buf.writeUInt16LE(1, 20) // PCM
  buf.writeUInt16LE(channels, 22)
  buf.writeUInt32LE(sampleRate, 24)
  buf.writeUInt32LE(byteRate, 28)
  buf.writeUInt16LE(blockAlign, 32)
  buf.writeUInt16LE(bitsPerSample, 34)
  buf.write('data', 36, 'ascii')
  buf.writeUInt32LE(dataSize, 40)
  let off = 44
  for (let i = 0; i < samples.length; i++) {
    buf.writeInt16LE(samples[i] ?? 0, off)
    off += 2
  }
  off += dataPad
  for (const c of trailing) {
    buf.write(c.id, off, 'ascii')
    buf.writeUInt32LE(c.data.length, off + 4)
    c.data.copy(buf, off + 8)
    off += 8 + c.data.length + (c.data.length % 2)
  }
  return buf
}

export interface ParsedWav {
  audioFormat: number
  channels: number
  sampleRate: number
  byteRate: number
  blockAlign: number
  bitsPerSample: number
  /** Value of the RIFF size field (should equal file length - 8). */
  riffSize: number
  /** Byte offset of the PCM data. */
  dataOffset: number
  /** Value of the data chunk size field. */
  dataSize: number
  /** Duration in seconds computed from dataSize / byteRate. */
  duration: number
  /** All chunks in file order (id, offset of payload, size). */
  chunks: Array<{ id: string, offset: number, size: number }>
}

/** Parses a RIFF/WAVE buffer. Returns null if the buffer is not a WAV file with `fmt ` and `data` chunks. */
export function parseWav (buf: Buffer): ParsedWav | null {
  if (buf.length < 12) return null
  if (buf.toString('ascii', 0, 4) !== 'RIFF' || buf.toString('ascii', 8, 12) !== 'WAVE') return null
  const riffSize = buf.readUInt32LE(4)
  const chunks: ParsedWav['chunks'] = []
  let fmt: Omit<ParsedWav, 'riffSize' | 'dataOffset' | 'dataSize' | 'duration' | 'chunks'> | null = null
  let dataOffset = -1
  let dataSize = 0
  let off = 12
  while (off + 8 <= buf.length) {
    const id = buf.toString('ascii', off, off + 4)
    const size = buf.readUInt32LE(off + 4)
    chunks.push({ id, offset: off + 8, size })
    if (id === 'fmt ' && off + 8 + 16 <= buf.length) {
      fmt = {
        audioFormat: buf.readUInt16LE(off + 8),
        channels: buf.readUInt16LE(off + 10),
        sampleRate: buf.readUInt32LE(off + 12),
        byteRate: buf.readUInt32LE(off + 16),
        blockAlign: buf.readUInt16LE(off + 20),
        bitsPerSample: buf.readUInt16LE(off + 22)
      }
    } else if (id === 'data' && dataOffset < 0) {
      dataOffset = off + 8
      dataSize = size
    }
    off += 8 + size + (size % 2)
  }
  if (fmt === null || dataOffset < 0) return null
  const duration = fmt.byteRate > 0 ? Math.min(dataSize, buf.length - dataOffset) / fmt.byteRate : 0
  return { ...fmt, riffSize, dataOffset, dataSize, duration, chunks }
}

/** Reads the 16-bit PCM samples of a parsed WAV (first channel only). */
export function readPcm16 (buf: Buffer, wav: ParsedWav): Int16Array {
  if (wav.bitsPerSample !== 16 || wav.audioFormat !== 1) throw new Error('only 16-bit PCM is supported')
  const end = Math.min(buf.length, wav.dataOffset + wav.dataSize)
  const frames = Math.floor((end - wav.dataOffset) / wav.blockAlign)
  const out = new Int16Array(frames)
  for (let i = 0; i < frames; i++) out[i] = buf.readInt16LE(wav.dataOffset + i * wav.blockAlign)
  return out
}

export interface ToneOptions {
  sampleRate: number
  /** Milliseconds of audio per input character. */
  msPerChar: number
  /** Hard cap on the clip duration, in milliseconds. */
  maxMs: number
  /** Floor on the clip duration, in milliseconds. */
  minMs: number
  /** Playback speed factor (> 0); the duration is divided by it. */
  speed: number
}

/**
 * Deterministic "speech": one short tone per input character (frequency
 * 220 Hz + (code point mod 24) x 30 Hz, amplitude ~0.3 full scale, 5 ms
 * fade in/out per segment so there are no clicks). Whitespace characters
 * get a quieter 110 Hz hum rather than silence so the clip is never silent.
 */
export function synthesizeTone (text: string, o: ToneOptions): Int16Array {
  const chars = Array.from(text.length > 0 ? text : ' ')
  const speed = Number.isFinite(o.speed) && o.speed > 0 ? o.speed : 1
  const segMs = o.msPerChar / speed
  const totalMs = Math.max(o.minMs, Math.min(o.maxMs, chars.length * segMs))
  const total = Math.max(1, Math.round(totalMs / 1000 * o.sampleRate))
  const segSamples = Math.max(1, Math.round(segMs / 1000 * o.sampleRate))
  const fade = Math.max(1, Math.min(Math.floor(segSamples / 4), Math.round(0.005 * o.sampleRate)))
  const voices = chars.map((ch) => {
    const isSpace = /\s/.test(ch)
    const cp = ch.codePointAt(0) ?? 32
    return { freq: isSpace ? 110 : 220 + (cp % 24) * 30, amp: isSpace ? 0.08 : 0.3 }
  })
  const out = new Int16Array(total)
  for (let i = 0; i < total; i++) {
    const seg = Math.floor(i / segSamples)
    const pos = i - seg * segSamples
    const { freq, amp } = voices[seg % voices.length] ?? { freq: 110, amp: 0.08 }
    const env = Math.min(1, pos / fade, (segSamples - pos) / fade)
    const v = Math.sin(2 * Math.PI * freq * (i / o.sampleRate)) * amp * Math.max(env, 0.05)
    out[i] = Math.round(v * 32767)
  }
  return out
}

/** The little WAV handling speech needs: a clip's duration, and joining clips synthesized in pieces. */

export interface WavLayout {
  /** Payload of the `fmt ` chunk (format, channels, rate, ...), compared when joining clips. */
  format: Buffer
  byteRate: number
  dataOffset: number
  dataLength: number
}

export function readWav (buf: Buffer): WavLayout | null {
  if (buf.length < 12 || buf.toString('ascii', 0, 4) !== 'RIFF' || buf.toString('ascii', 8, 12) !== 'WAVE') return null
  let format: Buffer | null = null
  let offset = 12
  while (offset + 8 <= buf.length) {
    const id = buf.toString('ascii', offset, offset + 4)
    const size = buf.readUInt32LE(offset + 4)
    const payload = offset + 8
    if (id === 'fmt ' && size >= 16 && payload + size <= buf.length) {
      format = buf.subarray(payload, payload + size)
    } else if (id === 'data') {
      if (format === null) return null
      const available = buf.length - payload
      // Streaming encoders write 0 or 0xFFFFFFFF when they cannot seek back: the data runs to the end.
      const dataLength = size === 0 || size > available ? available : size
      return { format, byteRate: format.readUInt32LE(8), dataOffset: payload, dataLength }
    }
    offset = payload + size + (size % 2)
  }
  return null
}

/** Seconds of audio, or null when the bytes are not a WAV file. */
export function wavDuration (buf: Buffer): number | null {
  const wav = readWav(buf)
  if (wav === null || wav.byteRate === 0) return null
  return wav.dataLength / wav.byteRate
}

/** One WAV holding the clips one after another. A single clip is returned untouched (keeping its extra chunks). */
export function joinWavs (clips: Buffer[]): Buffer {
  if (clips.length === 1) return clips[0]!
  const layouts = clips.map((clip) => {
    const wav = readWav(clip)
    if (wav === null) throw new Error('speech engine returned something other than WAV')
    return wav
  })
  const first = layouts[0]
  if (first === undefined) throw new Error('no audio to join')
  if (layouts.some((wav) => !wav.format.equals(first.format))) throw new Error('speech clips have different formats')
  const dataLength = layouts.reduce((sum, wav) => sum + wav.dataLength, 0)
  const fmtSize = first.format.length
  const headerLength = 12 + 8 + fmtSize + (fmtSize % 2) + 8
  const out = Buffer.alloc(headerLength + dataLength + (dataLength % 2))
  out.write('RIFF', 0, 'ascii')
  out.writeUInt32LE(out.length - 8, 4)
  out.write('WAVE', 8, 'ascii')
  out.write('fmt ', 12, 'ascii')
  out.writeUInt32LE(fmtSize, 16)
  first.format.copy(out, 20)
  const dataHeader = 20 + fmtSize + (fmtSize % 2)
  out.write('data', dataHeader, 'ascii')
  out.writeUInt32LE(dataLength, dataHeader + 4)
  let offset = headerLength
  clips.forEach((clip, i) => {
    const wav = layouts[i]!
    offset += clip.copy(out, offset, wav.dataOffset, wav.dataOffset + wav.dataLength)
  })
  return out
}

import { Type } from 'typebox'
import { OptionalString } from './common.js'

// POST /speak, GET /tts/*, GET and HEAD /audio/:filename, POST /transcribe, GET/PUT /voice/preferences.

export const SpeakBody = Type.Object({
  text: OptionalString,
  language: OptionalString,
  /**
   * auto | gtts | azure | coqui, as the UI sends. This service has other engines (Groq TTS,
   * espeak-ng), so every choice means "the best available"; `engine` in the reply says which ran.
   */
  engine: OptionalString
})

export const SpeakResponse = Type.Object({
  success: Type.Literal(true),
  audio_url: Type.String(),
  filename: Type.String(),
  duration: Type.Number(),
  language: Type.String(),
  language_name: Type.String(),
  engine: Type.String(),
  /** Added: true when the text was longer than TTS_MAX_CHARS and only its beginning was spoken. */
  truncated: Type.Boolean()
})

export const LanguagesResponse = Type.Object({
  success: Type.Literal(true),
  languages: Type.Record(Type.String(), Type.String()),
  total: Type.Integer()
})

export const EngineInfo = Type.Object({
  name: Type.String(),
  description: Type.String(),
  available: Type.Boolean(),
  quality: Type.String(),
  free: Type.Boolean(),
  premium_only: Type.Optional(Type.Boolean()),
  accessible: Type.Optional(Type.Boolean()),
  reason: Type.Optional(Type.String())
})

export const SpeechEngineInfo = Type.Object({
  name: Type.String(),
  available: Type.Boolean(),
  languages: Type.Array(Type.String()),
  version: Type.Optional(Type.String())
})

export const EnginesResponse = Type.Object({
  success: Type.Literal(true),
  engines: Type.Object({ auto: EngineInfo, gtts: EngineInfo, azure: EngineInfo, coqui: EngineInfo }),
  user_plan: Type.String(),
  azure_configured: Type.Boolean(),
  /** Added: the engines this service really runs, which every `engine_preference` maps onto. */
  speech_engines: Type.Object({ groq: SpeechEngineInfo, espeak: SpeechEngineInfo })
})

export const AudioParams = Type.Object({ filename: Type.String() })
export const AudioBytes = Type.Unsafe<Buffer>({ type: 'string', format: 'binary', description: 'audio bytes' })
export const NoBody = Type.Null({ description: 'no body' })

export const TranscribeResponse = Type.Object({
  success: Type.Literal(true),
  text: Type.String(),
  language: Type.String(),
  duration: Type.Number()
})

export const VoicePreferencesRow = Type.Object({
  id: Type.String(),
  user_id: Type.String(),
  engine_preference: Type.String(),
  language_preference: Type.String(),
  created_at: Type.String(),
  updated_at: Type.String()
})

export const ShortVoicePreferences = Type.Object({
  engine_preference: Type.String(),
  language_preference: Type.String()
})

export const VoicePreferencesResponse = Type.Object({
  success: Type.Literal(true),
  preferences: Type.Union([VoicePreferencesRow, ShortVoicePreferences])
})

export const VoicePreferencesBody = Type.Object({
  // Strings only: a number would be coerced and a wrong type gets the route's "Invalid engine" answer.
  engine_preference: Type.Optional(Type.Unknown()),
  language_preference: Type.Optional(Type.Unknown())
})

export const VoicePreferencesUpdateResponse = Type.Object({
  success: Type.Boolean(),
  message: Type.String(),
  premium_required: Type.Optional(Type.Boolean()),
  preferences: Type.Optional(ShortVoicePreferences)
})

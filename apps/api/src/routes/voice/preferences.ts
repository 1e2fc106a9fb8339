import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox'
import { Type } from 'typebox'
import { VOICE_ENGINES, isVoiceEngine } from '../../plugins/app/speech/voice-preferences.js'
import { MessageResponse, UnauthorizedResponse } from '../../schemas/common.js'
import { VoicePreferencesBody, VoicePreferencesResponse, VoicePreferencesUpdateResponse } from '../../schemas/speech.js'

/** Column width of language_preference. */
const MAX_LANGUAGE_LENGTH = 10

/** GET/PUT /voice/preferences; failures are 200 `{success:false}` as the UI expects. */
const voicePreferencesRoutes: FastifyPluginAsyncTypebox = async (fastify) => {
  fastify.get('/voice/preferences', {
    preParsing: fastify.authenticate,
    schema: { response: { 200: Type.Union([VoicePreferencesResponse, MessageResponse]), 401: UnauthorizedResponse } }
  }, async (request) => {
    try {
      const row = await fastify.voicePreferences.find(request.user.id)
      if (row !== undefined) return { success: true as const, preferences: row }
      await fastify.voicePreferences.createDefault(request.user.id)
      return { success: true as const, preferences: { engine_preference: 'auto', language_preference: 'auto' } }
    } catch (err) {
      request.log.error({ err }, 'voice preferences not loaded')
      return { success: false, message: 'Failed to load voice preferences' }
    }
  })

  fastify.put('/voice/preferences', {
    preParsing: fastify.authenticate,
    schema: { body: VoicePreferencesBody, response: { 200: VoicePreferencesUpdateResponse, 401: UnauthorizedResponse } }
  }, async (request) => {
    const body = request.body ?? {}
    const engine = body.engine_preference ?? 'auto'
    const language = body.language_preference ?? 'auto'
    if (typeof engine !== 'string' || !isVoiceEngine(engine)) {
      return { success: false, message: `Invalid engine. Must be one of: ${VOICE_ENGINES.join(', ')}` }
    }
    // Values are not validated beyond the engine name; a non-string or an over-long value was a failed upsert.
    if (typeof language !== 'string' || language.length > MAX_LANGUAGE_LENGTH) {
      return { success: false, message: 'Failed to update preferences' }
    }
    try {
      if (engine === 'azure') {
        // A user without a plan row is not on the free plan.
        const plan = await fastify.voicePreferences.plan(request.user.id)
        if (plan?.plan_type === 'free') {
          return { success: false, message: 'Azure Neural TTS is a premium feature. Please upgrade your plan.', premium_required: true }
        }
      }
      await fastify.voicePreferences.upsert(request.user.id, engine, language)
    } catch (err) {
      request.log.error({ err }, 'voice preferences not saved')
      return { success: false, message: 'Failed to update preferences' }
    }
    return {
      success: true,
      message: 'Voice preferences updated successfully',
      preferences: { engine_preference: engine, language_preference: language }
    }
  })
}

export default voicePreferencesRoutes

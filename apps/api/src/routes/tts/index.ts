import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox'
import { Type } from 'typebox'
import { SPEECH_LANGUAGES } from '../../plugins/app/speech/speech-text.js'
import { MessageResponse, UnauthorizedResponse } from '../../schemas/common.js'
import { EnginesResponse, LanguagesResponse } from '../../schemas/speech.js'

const ttsRoutes: FastifyPluginAsyncTypebox = async (fastify) => {
  fastify.get('/tts/languages', {
    schema: { response: { 200: LanguagesResponse } }
  }, async () => ({ success: true as const, languages: { ...SPEECH_LANGUAGES }, total: Object.keys(SPEECH_LANGUAGES).length }))

  /**
   * The UI lists every key of `engines` as a choice and PUTs its key, so the four keys
   * it knows stay (the preferences table accepts only those); `available` tells the truth about this
   * service, where gTTS, Azure and Coqui do not exist. Our real engines are listed in `speech_engines`.
   */
  fastify.get('/tts/engines', {
    preParsing: fastify.authenticate,
    schema: { response: { 200: Type.Union([EnginesResponse, MessageResponse]), 401: UnauthorizedResponse } }
  }, async (request) => {
    const { engines, canSynthesize } = fastify.speech
    const plan = await fastify.voicePreferences.plan(request.user.id)
    const userPlan = plan?.plan_type ?? 'free'
    const azureAccess = userPlan === 'free'
      ? { accessible: false, reason: 'Premium feature - upgrade to access' }
      : { accessible: true }
    return {
      success: true as const,
      engines: {
        auto: {
          name: 'Auto (Smart Selection)',
          description: 'Automatically selects the best engine based on language and text',
          available: canSynthesize,
          quality: 'mixed',
          free: true
        },
        gtts: { name: 'Google TTS (Standard)', description: 'Free, reliable, supports 100+ languages', available: false, quality: 'good', free: true },
        azure: {
          name: 'Azure Neural TTS (Premium)',
          description: 'Best quality neural voices for Kannada, Hindi, and English',
          available: false,
          quality: 'excellent',
          free: false,
          premium_only: true,
          ...azureAccess
        },
        coqui: { name: 'Coqui TTS (High Quality)', description: 'High quality English voice', available: false, quality: 'very_good', free: true }
      },
      user_plan: userPlan,
      azure_configured: false,
      speech_engines: {
        groq: { name: 'Groq TTS', available: engines.groq, languages: ['en'] },
        espeak: {
          name: 'espeak-ng',
          available: engines.espeak !== null,
          languages: Object.keys(SPEECH_LANGUAGES),
          ...(engines.espeak === null ? {} : { version: engines.espeak.version })
        }
      }
    }
  })
}

export default ttsRoutes

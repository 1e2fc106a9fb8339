// One API process for the callgrind referee (phases/instructions.ts): what apps/api/dist/server.js
// does, minus its signal handling, with Fastify's plugin timeout off. Under valgrind the app boots
// 20-50x slower than natively, past the default 10 s Fastify allows a plugin. The app is imported
// from API_DIST (the checkout being measured, which --repo may point elsewhere).
import { join } from 'node:path'
import { pathToFileURL } from 'node:url'

const dist = process.env.API_DIST
if (dist === undefined) throw new Error('API_DIST is required')
type ConfigModule = typeof import('@documind/api/dist/config.js')
type AppModule = typeof import('@documind/api/dist/app.js')
const configModule = await import(pathToFileURL(join(dist, 'config.js')).href) as ConfigModule
const { buildApp } = await import(pathToFileURL(join(dist, 'app.js')).href) as AppModule

const config = configModule.loadConfig()
const assertRunnable: ConfigModule['assertRunnable'] = configModule.assertRunnable
assertRunnable(config)
const app = await buildApp(config, { pluginTimeout: 0 })
await app.listen({ port: config.port, host: config.host })
process.on('SIGTERM', () => { app.close().finally(() => process.exit(0)) })

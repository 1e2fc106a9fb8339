import closeWithGrace from 'close-with-grace'
import { buildApp } from './app.js'
import { assertRunnable, loadConfig } from './config.js'

const config = loadConfig()
assertRunnable(config)

const app = await buildApp(config)

// On SIGTERM/SIGINT (PM2 stop, reload, Ctrl-C): drain keep-alive clients, stop accepting, let in-flight
// requests finish, close pools. PM2's kill_timeout is above the grace period.
closeWithGrace({ delay: config.closeGraceMs }, async ({ signal, err }) => {
  if (err !== undefined) {
    app.log.error({ err }, 'closing after an uncaught error')
  } else {
    app.log.info({ signal }, 'draining, then closing')
    app.gracefulShutdown.startDraining()
    await new Promise((resolve) => setTimeout(resolve, config.shutdownDrainMs))
  }
  await app.close()
})

await app.listen({ port: config.port, host: config.host })
// PM2 (wait_ready) waits for this before routing traffic to the worker or stopping the old one on reload.
process.send?.('ready')

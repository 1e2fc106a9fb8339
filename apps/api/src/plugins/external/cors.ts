import fastifyCors from '@fastify/cors'
import fp from 'fastify-plugin'

/** The Flask backend's flask-cors settings, so the React app's preflights pass unchanged. */
export default fp<{ origins: string[] }>(async (fastify, opts) => {
  await fastify.register(fastifyCors, {
    origin: opts.origins,
    credentials: true,
    // Joined once here: the plugin joins arrays again on every request.
    methods: 'GET, HEAD, POST, PUT, DELETE, OPTIONS',
    allowedHeaders: 'Content-Type, Authorization, baggage, sentry-trace, X-Requested-With, Accept, Origin, Range',
    exposedHeaders: 'Content-Type, Authorization, Content-Length, Content-Range, Accept-Ranges, Retry-After',
    maxAge: 3600,
    // A bare OPTIONS (no preflight headers) answers 204, not 400.
    strictPreflight: false
  })
}, { name: 'cors' })

import type { FastifyBaseLogger, FastifyServerOptions } from 'fastify'

type Bindings = Parameters<FastifyBaseLogger['child']>[0]
type ChildLoggerOptions = NonNullable<Parameters<FastifyBaseLogger['child']>[1]>
type Level = FastifyBaseLogger['level']

/**
 * `request.log` whose pino child (the one carrying `reqId`) is made on its first use. Fastify makes
 * that child for every request, and most requests (every GET /health) never log: at LOG_LEVEL=warn
 * only errors, 5xx and a few warnings do. The lines written are the same as the child's.
 */
export class RequestLogger implements FastifyBaseLogger {
  readonly #parent: FastifyBaseLogger
  readonly #bindings: Bindings
  readonly #options: ChildLoggerOptions
  #child: FastifyBaseLogger | undefined

  constructor (parent: FastifyBaseLogger, bindings: Bindings, options: ChildLoggerOptions) {
    this.#parent = parent
    this.#bindings = bindings
    this.#options = options
  }

  #logger (): FastifyBaseLogger {
    return (this.#child ??= this.#parent.child(this.#bindings, this.#options))
  }

  get level (): Level { return this.#child?.level ?? this.#options.level ?? this.#parent.level }
  set level (level: Level) { this.#logger().level = level }

  fatal (...args: unknown[]): void { const log = this.#logger(); Reflect.apply(log.fatal, log, args) }
  error (...args: unknown[]): void { const log = this.#logger(); Reflect.apply(log.error, log, args) }
  warn (...args: unknown[]): void { const log = this.#logger(); Reflect.apply(log.warn, log, args) }
  info (...args: unknown[]): void { const log = this.#logger(); Reflect.apply(log.info, log, args) }
  debug (...args: unknown[]): void { const log = this.#logger(); Reflect.apply(log.debug, log, args) }
  trace (...args: unknown[]): void { const log = this.#logger(); Reflect.apply(log.trace, log, args) }
  silent (...args: unknown[]): void { const log = this.#logger(); Reflect.apply(log.silent, log, args) }

  child (bindings: Bindings, options?: ChildLoggerOptions): FastifyBaseLogger {
    return this.#logger().child(bindings, options)
  }
}

export const requestLoggerFactory: NonNullable<FastifyServerOptions['childLoggerFactory']> = (logger, bindings, options) => new RequestLogger(logger, bindings, options)

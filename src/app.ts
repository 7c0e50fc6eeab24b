import { randomUUID } from 'node:crypto'
import { getHeapStatistics } from 'node:v8'
import rateLimit from '@fastify/rate-limit'
import sensible from '@fastify/sensible'
import underPressure from '@fastify/under-pressure'
import Fastify, { type FastifyInstance, type FastifyReply } from 'fastify'
import { validatorCompiler, type ZodTypeProvider } from 'fastify-type-provider-zod'
import { callerApi } from './api/caller-api.js'
import { clientErrorHandler } from './api/client-errors.js'
import { InvalidField, InvalidUrl } from './api/error-catalog.js'
import { errorBody, errorHandlerPlugin } from './api/error-handler.js'
import { batchDeliveriesRoutes } from './batches/batch-deliveries.routes.js'
import { batchesRoutes } from './batches/batches.routes.js'
import { exportRoutes } from './batches/export.routes.js'
import { captionsRoutes } from './captions/captions.routes.js'
import type { Config } from './config.js'
import { migrationNames } from './db/migration-files.js'
import type { ServiceDeps } from './deps.js'
import { healthRoutes } from './health/health.routes.js'
import { fastSerializerCompiler } from './lib/fast-serializer.js'
import { prototypeKey } from './lib/prototype-keys.js'
import { metricsPlugin } from './metrics-endpoint.js'
import { openApiPlugin } from './openapi.js'
import { usageRoutes } from './spend/usage.routes.js'
import { webhooksRoutes } from './webhooks/webhooks.routes.js'

// Replies carry the catalog's codes in lower snake case (see toErrorBody).
const INVALID_URL = new InvalidUrl('').code.toLowerCase()
const REQUEST_ID = /^[\w.:-]{1,128}$/
const BODY_LIMIT_BYTES = 1024 * 1024

/** Builds the whole HTTP service without listening: the process entry and the tests both start here. */
export async function buildApp(config: Config, deps: ServiceDeps): Promise<FastifyInstance> {
  const app = Fastify({
    loggerInstance: deps.log,
    bodyLimit: BODY_LIMIT_BYTES,
    // A caller's X-Request-Id is kept when it is sane, so one id follows a request across services.
    genReqId: (request) => {
      const given = request.headers['x-request-id']
      return typeof given === 'string' && REQUEST_ID.test(given) ? given : randomUUID()
    },
    // Bad percent-encoding and over-long path parameters are refused by the router before any hook or
    // the error handler runs: answered here in the service's error shape, with the request id.
    frameworkErrors: (error, request, reply) => {
      request.log.info({ code: error.code, message: error.message }, 'request refused')
      void (reply as FastifyReply)
        .code(400)
        .header('x-request-id', request.id)
        .send(errorBody(400, INVALID_URL, error.message))
    },
    // Node's own refusals and the 503 of a closing server in the one error shape (see below).
    clientErrorHandler: clientErrorHandler(deps.log),
    return503OnClosing: false,
    connectionTimeout: 30_000,
    requestTimeout: 30_000,
    keepAliveTimeout: 72_000,
  }).withTypeProvider<ZodTypeProvider>()

  // JSON only: a text/plain body is refused with 415 rather than handed to validation as a string.
  app.removeContentTypeParser('text/plain')
  // Fastify's JSON parser, but a prototype key is refused by name rather than as "not valid JSON".
  const parseJson = app.getDefaultJsonParser('ignore', 'ignore')
  app.addContentTypeParser('application/json', { parseAs: 'string' }, (request, body, done) => {
    // A route that takes no body (a re-send) takes an empty one too: `curl -X POST -H 'content-type:
    // application/json'` sends the header with nothing after it.
    if (body === '' && request.routeOptions.schema?.body === undefined) {
      done(null, undefined)
      return
    }
    parseJson(request, body as string, (error, value) => {
      const key = error ? undefined : prototypeKey(value)
      if (key !== undefined) done(new InvalidField('body', `must not contain the key ${key}`), undefined)
      else done(error, value)
    })
  })
  app.setValidatorCompiler(validatorCompiler)
  app.setSerializerCompiler(fastSerializerCompiler)
  // Answers sent while the server closes end their connection: Fastify marks only requests that arrive
  // during close, and an idle keep-alive socket left by one already in flight would hold close() open
  // until keepAliveTimeout, far past the shutdown budget.
  let closing = false
  app.addHook('preClose', async () => {
    closing = true
    // Requests waiting for their caption (Prefer: wait) answer now, with the caption as it stands.
    await deps.finishedCaptions.close()
  })
  // A request that arrives once the server is closing is refused before any other hook runs: the load
  // balancer sends it to another replica.
  // The hooks every request passes are plain callbacks: an async hook costs each request a promise
  // and a turn of the microtask queue, for work that never waits.
  app.addHook('onRequest', (request, reply, done) => {
    if (!closing) {
      done()
      return
    }
    request.log.info({ code: 'shutting_down' }, 'request refused: stopping')
    reply
      .code(503)
      .header('retry-after', '5')
      // Written as it is: a route's own 503 schema (/readyz's) describes another body, and would
      // turn this answer into a 500.
      .type('application/json; charset=utf-8')
      .serializer(JSON.stringify)
      .send(errorBody(503, 'shutting_down', 'this replica is stopping; retry shortly'))
  })
  app.addHook('onSend', (request, reply, payload, done) => {
    reply.header('x-request-id', request.id)
    if (closing) reply.header('connection', 'close')
    done(null, payload)
  })

  await app.register(errorHandlerPlugin, { bodyLimitBytes: BODY_LIMIT_BYTES })
  await app.register(sensible)
  // Shed load with 503 + Retry-After before falling over; /healthz opts out (see health.routes.ts).
  await app.register(underPressure, {
    maxEventLoopDelay: config.overload.maxEventLoopDelayMs,
    maxHeapUsedBytes: (config.overload.maxHeapUsedMb ?? defaultHeapLimitMb()) * 1024 * 1024,
    retryAfter: 5,
  })
  // Only routes that ask for it are limited (creates, and callers' reads); the hook runs after the caller
  // is known.
  await app.register(rateLimit, { global: false, hook: 'preParsing' })
  app.decorateRequest('caller', '')
  // Before every route, so each one's schemas reach the OpenAPI document.
  await app.register(openApiPlugin)
  await app.register(metricsPlugin, {
    metrics: deps.metrics,
    sql: deps.sql,
    deadlineMs: deps.work.deadlineMs,
    clock: deps.clock,
    refreshMs: config.metrics.refreshMs,
    token: config.metrics.token,
  })
  const expectedMigrations = await migrationNames()

  await app.register(healthRoutes, { sql: deps.sql, expectedMigrations })
  await app.register(callerApi, {
    deps,
    apiTokens: config.apiTokens,
    readsPerMinute: config.rateLimitReadsPerMinute,
    rateLimitPerMinute: config.rateLimitPerMinute,
    resendRateLimitPerMinute: config.resendRateLimitPerMinute,
    routes: [captionsRoutes, batchesRoutes, exportRoutes, usageRoutes, batchDeliveriesRoutes],
  })
  await app.register(webhooksRoutes, { deps })

  return app
}

/** 90% of the V8 heap limit: past it, answering more requests would only bring the crash closer. */
function defaultHeapLimitMb(): number {
  return Math.floor((getHeapStatistics().heap_size_limit / 1024 / 1024) * 0.9)
}

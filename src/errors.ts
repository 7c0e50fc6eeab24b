import createError from '@fastify/error'
import type { FastifyError, FastifyInstance, FastifyRequest } from 'fastify'
import fp from 'fastify-plugin'
import { hasZodFastifySchemaValidationErrors } from 'fastify-type-provider-zod'
import { z } from 'zod'
import { isDatabaseDown } from './db/database-errors.js'

/**
 * Every error a caller can meet, with a stable machine-readable `code`. Replies always take the shape
 * `{ statusCode, error, message, code, details }`; `details` lists the fields at fault, and is empty when
 * the error is not about a field.
 */
export const Unauthorized = createError<[string]>('unauthorized', '%s', 401)
export const RateLimited = createError<[string]>(
  'rate_limited',
  'too many captions requested; retry in %s',
  429,
)

/** A field that passed the schema but not a rule that depends on how the service is run. */
export class InvalidField extends Error {
  readonly statusCode = 400
  constructor(
    readonly field: string,
    readonly reason: string,
  ) {
    super(`${field}: ${reason}`)
    this.name = 'InvalidField'
  }
}

/** The request's path itself is malformed (bad percent-encoding, an over-long parameter). */
export const InvalidUrl = createError<[string]>('invalid_url', '%s', 400)
export const CaptionNotFound = createError<[string]>('not_found', 'caption %s was not found', 404)
export const InvalidCursor = createError('invalid_cursor', 'cursor: is not a cursor this service issued', 400)
export const WebhookUnauthorized = createError(
  'webhook_unauthorized',
  'x-webhook-secret is missing or does not match this caption',
  401,
)
export const InvalidWebhookPayload = createError<[string]>(
  'invalid_webhook_payload',
  'the webhook body is not a GoAPI task delivery: %s',
  400,
)
export const InvalidIdempotencyKey = createError<[string]>(
  'invalid_idempotency_key',
  'Idempotency-Key: %s',
  400,
)
export const IdempotencyKeyReused = createError(
  'idempotency_key_reused',
  'Idempotency-Key: this key was already used with a different request body',
  422,
)
export const IdempotencyKeyInProgress = createError(
  'idempotency_key_in_progress',
  'Idempotency-Key: a request with this key is still being processed; retry shortly',
  409,
)
export const NoCallbackUrl = createError<[string]>(
  'no_callback_url',
  'caption %s has no callbackUrl, so there is no event to send',
  400,
)
export const CaptionNotFinished = createError<[string]>(
  'caption_not_finished',
  'caption %s is not finished yet; its event is sent when it completes or fails',
  409,
)
/** The one error shape, as the OpenAPI document and the route schemas describe it. */
export const errorResponse = z
  .object({
    statusCode: z.number(),
    error: z.string(),
    message: z.string(),
    code: z.string(),
    details: z.array(z.object({ field: z.string(), message: z.string() })),
  })
  .meta({ id: 'Error' })

/** Why a caption failed: the `error` a finished caption carries, `{ code, message }`. */
export interface CaptionFailure {
  code: string
  message: string
}

export const captionFailures = {
  /** GoAPI refused the task for good (bad input, key, credits or plan). */
  goapiRejected: (httpStatus: number, reason: string): CaptionFailure => ({
    code: 'goapi_rejected',
    message: `GoAPI refused the task (HTTP ${httpStatus}): ${reason}`,
  }),
  /** GoAPI ran the task and reports it failed, in its own words. */
  goapiTaskFailed: (reason: string): CaptionFailure => ({ code: 'goapi_task_failed', message: reason }),
  goapiEmptyOutput: (): CaptionFailure => ({
    code: 'goapi_empty_output',
    message: 'GoAPI reported the task completed but sent no caption text',
  }),
  /**
   * GoAPI answered not_found for the caption's task on two polls in a row. The task id came from
   * GoAPI, so GoAPI has purged or lost the task and it will never finish; sending the caption again
   * would pay twice.
   */
  goapiTaskNotFound: (taskId: string): CaptionFailure => ({
    code: 'goapi_task_not_found',
    message: `GoAPI no longer knows task ${taskId}: it was purged or lost and will not finish; the caption was not sent again, so it is not paid twice`,
  }),
  /** No final answer from GoAPI before the caption's deadline. */
  timeout: (deadlineMs: number): CaptionFailure => ({
    code: 'timeout',
    message: `GoAPI gave no final answer within ${Math.round(deadlineMs / 1000)} seconds`,
  }),
} as const

/** How long a caller should wait before retrying a refusal that ends by itself (every 503: 5 s). */
const RETRY_AFTER_SECONDS: Record<string, number> = { idempotency_key_in_progress: 1 }

interface ErrorBody {
  statusCode: number
  error: string
  message: string
  code: string
  details: { field: string; message: string }[]
}

// Fastify's own errors for malformed requests, renamed to this service's vocabulary.
const FASTIFY_CODES: Record<string, string> = {
  FST_ERR_CTP_EMPTY_JSON_BODY: 'invalid_json',
  FST_ERR_CTP_INVALID_JSON_BODY: 'invalid_json',
  FST_ERR_CTP_INVALID_CONTENT_LENGTH: 'invalid_request',
  FST_ERR_NOT_FOUND: 'route_not_found',
}

const STATUS_NAMES: Record<number, string> = {
  400: 'Bad Request',
  401: 'Unauthorized',
  403: 'Forbidden',
  404: 'Not Found',
  405: 'Method Not Allowed',
  409: 'Conflict',
  413: 'Payload Too Large',
  415: 'Unsupported Media Type',
  422: 'Unprocessable Entity',
  429: 'Too Many Requests',
  500: 'Internal Server Error',
  503: 'Service Unavailable',
}

export function errorBody(
  statusCode: number,
  code: string,
  message: string,
  details: ErrorBody['details'] = [],
): ErrorBody {
  return { statusCode, error: STATUS_NAMES[statusCode] ?? 'Error', message, code, details }
}

function toErrorBody(error: FastifyError, bodyLimitBytes: number): ErrorBody {
  if (hasZodFastifySchemaValidationErrors(error)) {
    const where = error.validationContext ?? 'request'
    const details = error.validation.flatMap((issue) => {
      const path = issue.instancePath.replace(/^\//, '').replaceAll('/', '.')
      // One detail per unknown key, named as the field it would have been.
      if (issue.keyword === 'unrecognized_keys' && Array.isArray(issue.params.keys)) {
        return issue.params.keys.map((key) => ({
          field: path ? `${path}.${String(key)}` : String(key),
          message: 'is not a known field',
        }))
      }
      return [{ field: path || where, message: issue.message ?? 'is invalid' }]
    })
    const message = details.map((detail) => `${detail.field}: ${detail.message}`).join('; ')
    return errorBody(400, 'validation_failed', message, details)
  }
  if ((error as unknown) instanceof InvalidField) {
    const { field, reason } = error as unknown as InvalidField
    return errorBody(400, 'validation_failed', `${field}: ${reason}`, [{ field, message: reason }])
  }
  if (error.code === 'FST_UNDER_PRESSURE')
    return errorBody(503, 'overloaded', 'the service is overloaded; retry shortly')
  if (isDatabaseDown(error))
    return errorBody(503, 'database_unavailable', 'the database is unavailable; retry shortly')
  const statusCode = error.statusCode ?? 500
  if (statusCode >= 500) return errorBody(statusCode, 'internal_error', 'something went wrong on our side')
  if (error instanceof SyntaxError)
    return errorBody(400, 'invalid_json', `the body is not valid JSON: ${error.message}`)
  if (error.code === 'FST_ERR_CTP_INVALID_MEDIA_TYPE')
    return errorBody(
      415,
      'unsupported_media_type',
      'unsupported content type: send the body as application/json',
    )
  if (error.code === 'FST_ERR_CTP_BODY_TOO_LARGE')
    return errorBody(
      413,
      'payload_too_large',
      `the body is larger than the ${formatBytes(bodyLimitBytes)} limit`,
    )
  // @fastify/error upper-cases codes; this service's codes are lower snake case.
  const code =
    FASTIFY_CODES[error.code] ??
    (error.code?.startsWith('FST_') ? 'invalid_request' : error.code?.toLowerCase())
  return errorBody(statusCode, code ?? 'invalid_request', error.message)
}

function formatBytes(bytes: number): string {
  if (bytes % (1024 * 1024) === 0) return `${bytes / 1024 / 1024} MiB`
  if (bytes % 1024 === 0) return `${bytes / 1024} KiB`
  return `${bytes} bytes`
}

/**
 * The one error handler: known errors keep their code, anything else becomes a 500 with no details. A
 * request no route takes is a 405 with `Allow` when its path has routes under other methods, else 404.
 */
export const errorHandlerPlugin = fp<{ bodyLimitBytes: number }>(
  async (app: FastifyInstance, { bodyLimitBytes }) => {
    const routes = routeTable(app)
    app.setErrorHandler((error: FastifyError, request, reply) => {
      const body = toErrorBody(error, bodyLimitBytes)
      if (body.code === 'overloaded') request.log.warn({ code: body.code }, 'request shed: overloaded')
      else if (body.statusCode >= 500) request.log.error({ err: error }, 'request failed')
      else request.log.info({ code: body.code, message: body.message }, 'request refused')
      const retryAfter = RETRY_AFTER_SECONDS[body.code] ?? (body.statusCode === 503 ? 5 : undefined)
      if (retryAfter !== undefined && !reply.hasHeader('retry-after'))
        reply.header('retry-after', String(retryAfter))
      return reply.code(body.statusCode).send(body)
    })
    app.setNotFoundHandler((request, reply) => {
      const path = pathOf(request)
      const allowed = routes.methodsFor(path)
      if (allowed.length === 0) {
        return reply
          .code(404)
          .send(errorBody(404, 'route_not_found', `no route for ${request.method} ${path}`))
      }
      const allow = allowed.join(', ')
      request.log.info({ code: 'method_not_allowed', allow }, 'request refused')
      return reply
        .code(405)
        .header('allow', allow)
        .send(
          errorBody(405, 'method_not_allowed', `${request.method} is not allowed on ${path}; use ${allow}`),
        )
    })
  },
  { name: 'error-handler' },
)

const pathOf = (request: FastifyRequest) => request.url.split('?')[0] as string

/**
 * Every route's method and path pattern, gathered as routes are added, to tell "no such path" (404)
 * from "no such method on this path" (405): Fastify's router answers only "no route".
 */
function routeTable(app: FastifyInstance) {
  const routes: { methods: string[]; segments: string[] }[] = []
  app.addHook('onRoute', (route) => {
    const methods = [route.method].flat().map((method) => method.toUpperCase())
    // Fastify answers HEAD wherever it answers GET.
    if (methods.includes('GET')) methods.push('HEAD')
    routes.push({ methods, segments: route.url.split('/') })
  })
  return {
    methodsFor(path: string): string[] {
      const segments = path.split('/')
      const methods = new Set<string>()
      for (const route of routes) {
        if (matches(route.segments, segments)) for (const method of route.methods) methods.add(method)
      }
      return [...methods].sort()
    },
  }
}

/** Whether a path matches a route pattern: `:name` takes one segment, a trailing `*` the rest. */
function matches(pattern: string[], path: string[]): boolean {
  for (const [index, part] of pattern.entries()) {
    if (part === '*' && index === pattern.length - 1) return true
    const segment = path[index]
    if (segment === undefined) return false
    if (part.startsWith(':')) continue
    if (part !== segment && part !== safeDecode(segment)) return false
  }
  return pattern.length === path.length
}

function safeDecode(segment: string): string | undefined {
  try {
    return decodeURIComponent(segment)
  } catch {
    return undefined
  }
}

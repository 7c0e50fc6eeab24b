import createError from '@fastify/error'
import type { FastifyError, FastifyInstance, FastifyRequest } from 'fastify'
import fp from 'fastify-plugin'
import { hasZodFastifySchemaValidationErrors } from 'fastify-type-provider-zod'
import { z } from 'zod'
import { databaseProblem, isDatabaseDown, isDatabaseNotMigrated } from './db/database-errors.js'

/**
 * Every error a caller can meet, with a stable machine-readable `code`. Replies always take the shape
 * `{ statusCode, error, message, code, details }`; `details` lists the fields at fault, and is empty when
 * the error is not about a field.
 */
export const Unauthorized = createError<[string]>('unauthorized', '%s', 401)
export const RateLimited = createError<[string, string]>(
  'rate_limited',
  'too many %s requested; retry in %s',
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

/** Several fields at fault at once (the items of a batch), each named: nothing was written. */
export class InvalidFields extends Error {
  readonly statusCode = 400
  constructor(readonly fields: readonly InvalidField[]) {
    super(fieldsMessage(fields.map(({ field, reason }) => ({ field, message: reason }))))
    this.name = 'InvalidFields'
  }
}

/** With caller authentication off, the caller API answers only requests addressed to this machine. */
export const HostNotAllowed = createError<[string]>(
  'host_not_allowed',
  'caller authentication is off, so this API answers only requests to localhost, 127.0.0.1 or [::1], not to the Host "%s"',
  421,
)

/** How many fields at fault a message names; `details` lists them all. */
export const MAX_FIELDS_IN_MESSAGE = 20

/** `a: why; b: why`, the first MAX_FIELDS_IN_MESSAGE of them, then `; and N more`. */
export function fieldsMessage(details: readonly { field: string; message: string }[]): string {
  const named = details.slice(0, MAX_FIELDS_IN_MESSAGE).map((detail) => `${detail.field}: ${detail.message}`)
  const more = details.length - named.length
  return more > 0 ? `${named.join('; ')}; and ${more} more` : named.join('; ')
}

/** The request's path itself is malformed (bad percent-encoding, an over-long parameter). */
export const InvalidUrl = createError<[string]>('invalid_url', '%s', 400)
export const CaptionNotFound = createError<[string]>('not_found', 'caption %s was not found', 404)
export const BatchNotFound = createError<[string]>('not_found', 'batch %s was not found', 404)
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
/** Work that would take a caller past its daily budget (CALLER_BUDGETS); amounts in dollars ($5.00). */
export const BudgetExceeded = createError<[string, string, string, string]>(
  'budget_exceeded',
  'daily budget of %s for caller "%s" exceeded: %s spent today, %s asked',
  402,
)
export const BatchNoCallbackUrl = createError<[string]>(
  'no_callback_url',
  'batch %s has no callbackUrl, so there is no event to send',
  400,
)
/** A batch has its event once every item has finished: the same code as a caption not finished. */
export const BatchNotCompleted = createError<[string]>(
  'caption_not_finished',
  'batch %s is not completed yet; its event is sent once every item has completed or failed',
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
  .meta({
    id: 'Error',
    description:
      'The one error shape: a stable `code`, and `details` naming each field at fault (else empty)',
  })

/**
 * Every code a request can be refused with, its HTTP status and what it means: the source of the error
 * responses each route lists in the OpenAPI document (`errorResponses`). The catalog's own errors above
 * are checked against it by test/unit/error-catalog.test.ts.
 */
export const REQUEST_ERRORS = {
  validation_failed: {
    status: 400,
    meaning: 'a field, parameter or header is invalid; `details` names each',
  },
  invalid_json: { status: 400, meaning: 'the body is not valid JSON' },
  invalid_url: { status: 400, meaning: 'the request path is malformed (bad percent-encoding)' },
  invalid_request: {
    status: 400,
    meaning:
      'the request cannot be read (a malformed request, two different Content-Lengths, Content-Length with Transfer-Encoding, a body shorter than its Content-Length)',
  },
  invalid_cursor: { status: 400, meaning: 'the cursor was not issued by this service' },
  invalid_idempotency_key: { status: 400, meaning: 'Idempotency-Key is malformed or sent twice' },
  invalid_webhook_payload: { status: 400, meaning: 'the body is not a GoAPI task delivery' },
  no_callback_url: {
    status: 400,
    meaning: 'the caption or batch has no callbackUrl, so there is no event to send',
  },
  unauthorized: { status: 401, meaning: 'no valid caller token (WWW-Authenticate says which)' },
  webhook_unauthorized: { status: 401, meaning: 'x-webhook-secret is missing or wrong; nothing was written' },
  budget_exceeded: {
    status: 402,
    meaning: 'the work would take the caller past its daily budget; nothing was accepted (see GET /usage)',
  },
  not_found: { status: 404, meaning: 'no such caption or batch for this caller' },
  route_not_found: { status: 404, meaning: 'no route has this path' },
  method_not_allowed: { status: 405, meaning: 'the path exists under other methods, listed in Allow' },
  idempotency_key_in_progress: {
    status: 409,
    meaning: 'a request with this Idempotency-Key is still being processed; retry after Retry-After',
  },
  caption_not_finished: {
    status: 409,
    meaning: 'the caption, or an item of the batch, is not finished; the event is sent once it is',
  },
  request_timeout: { status: 408, meaning: 'the request did not arrive in full within 30 seconds' },
  payload_too_large: {
    status: 413,
    meaning: 'the body is larger than 1 MiB (4 MiB on POST /batches, 64 KiB on POST /webhooks/goapi)',
  },
  unsupported_media_type: { status: 415, meaning: 'the body is not application/json' },
  host_not_allowed: {
    status: 421,
    meaning:
      'caller authentication is off, and the Host header is not localhost, 127.0.0.1 or [::1] (any port): a defence against DNS rebinding',
  },
  idempotency_key_reused: { status: 422, meaning: 'this Idempotency-Key came with a different body' },
  headers_too_large: { status: 431, meaning: "the request's headers are larger than the server takes" },
  rate_limited: {
    status: 429,
    meaning: "the caller's per-minute allowance is spent; retry after Retry-After",
  },
  internal_error: { status: 500, meaning: 'something went wrong on our side (no details are given)' },
  database_unavailable: { status: 503, meaning: 'the database is unreachable; retry after Retry-After' },
  database_not_migrated: {
    status: 503,
    meaning:
      "the database lacks the service's tables until an operator runs npm run db:migrate; retry after Retry-After",
  },
  overloaded: { status: 503, meaning: 'this replica is shedding load; retry after Retry-After' },
  shutting_down: {
    status: 503,
    meaning: 'this replica is stopping and takes no new requests; retry (another replica answers)',
  },
} as const satisfies Record<string, { status: number; meaning: string }>
export type RequestErrorCode = keyof typeof REQUEST_ERRORS

const RETRY_AFTER_HEADER = {
  'retry-after': { type: 'integer', description: 'Seconds to wait before trying again' },
}
/** Response headers an error status carries, for the OpenAPI document. */
const ERROR_HEADERS: Record<number, Record<string, unknown>> = {
  401: {
    'www-authenticate': { type: 'string', description: 'The scheme and realm a caller token must use' },
  },
  409: RETRY_AFTER_HEADER,
  429: RETRY_AFTER_HEADER,
  503: RETRY_AFTER_HEADER,
}

/**
 * A route's error responses, by status, from the codes it can answer with: each status is the one
 * error shape, described by the codes it may carry. `internal_error` (500) is always among them.
 */
export function errorResponses(...codes: RequestErrorCode[]): Record<number, typeof errorResponse> {
  const byStatus = new Map<number, RequestErrorCode[]>()
  for (const code of new Set([...codes, 'internal_error' as const])) {
    const { status } = REQUEST_ERRORS[code]
    byStatus.set(status, [...(byStatus.get(status) ?? []), code])
  }
  return Object.fromEntries(
    [...byStatus].map(([status, statusCodes]) => {
      const lines = statusCodes.map((code) => `- \`${code}\`: ${REQUEST_ERRORS[code].meaning}`)
      const description = `${STATUS_NAMES[status]}, with one of these codes:\n${lines.join('\n')}`
      const headers = ERROR_HEADERS[status]
      return [status, errorResponse.meta(headers ? { description, headers } : { description })]
    }),
  )
}

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
const RETRY_AFTER_SECONDS: Record<string, number> = {
  idempotency_key_in_progress: 1,
  database_not_migrated: 30,
}

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
  402: 'Payment Required',
  403: 'Forbidden',
  404: 'Not Found',
  405: 'Method Not Allowed',
  408: 'Request Timeout',
  409: 'Conflict',
  413: 'Payload Too Large',
  415: 'Unsupported Media Type',
  421: 'Misdirected Request',
  422: 'Unprocessable Entity',
  429: 'Too Many Requests',
  431: 'Request Header Fields Too Large',
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

/** A JSON pointer as a field name: `/items/3/imageUrl` → `items[3].imageUrl`. */
function fieldPath(pointer: string): string {
  return pointer
    .split('/')
    .slice(1)
    .reduce(
      (path, segment) =>
        /^\d+$/.test(segment) ? `${path}[${segment}]` : path ? `${path}.${segment}` : segment,
      '',
    )
}

/** The fields a schema refused, each named; undefined for an error that is not a schema's. */
export function validationDetails(error: unknown): ErrorBody['details'] | undefined {
  if (!hasZodFastifySchemaValidationErrors(error)) return undefined
  const where = (error as { validationContext?: string }).validationContext ?? 'request'
  return error.validation.flatMap((issue) => {
    const path = fieldPath(issue.instancePath)
    // One detail per unknown key, named as the field it would have been.
    if (issue.keyword === 'unrecognized_keys' && Array.isArray(issue.params.keys)) {
      return issue.params.keys.map((key) => ({
        field: path ? `${path}.${String(key)}` : String(key),
        message: 'is not a known field',
      }))
    }
    return [{ field: path || where, message: issue.message ?? 'is invalid' }]
  })
}

function toErrorBody(error: FastifyError, bodyLimitBytes: number): ErrorBody {
  const details = validationDetails(error)
  if (details !== undefined) return errorBody(400, 'validation_failed', fieldsMessage(details), details)
  if ((error as unknown) instanceof InvalidFields) {
    const { fields } = error as unknown as InvalidFields
    const details = fields.map(({ field, reason }) => ({ field, message: reason }))
    return errorBody(400, 'validation_failed', error.message, details)
  }
  if ((error as unknown) instanceof InvalidField) {
    const { field, reason } = error as unknown as InvalidField
    return errorBody(400, 'validation_failed', `${field}: ${reason}`, [{ field, message: reason }])
  }
  if (error.code === 'FST_UNDER_PRESSURE')
    return errorBody(503, 'overloaded', 'the service is overloaded; retry shortly')
  if (isDatabaseDown(error))
    return errorBody(503, 'database_unavailable', 'the database is unavailable; retry shortly')
  if (isDatabaseNotMigrated(error))
    return errorBody(
      503,
      'database_not_migrated',
      'the database is not migrated: an operator must run npm run db:migrate; retry later',
    )
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
      // The client closed its connection in the middle of its body: its doing, and nobody to answer.
      if (error.code === 'ECONNRESET' && request.raw.destroyed) {
        request.log.info({ code: 'client_aborted' }, 'client went away before its body arrived')
        return reply.code(400).send(errorBody(400, 'invalid_request', 'the request ended before its body'))
      }
      // A route may take larger bodies than the rest (a batch of 1,000 URLs, say).
      const body = toErrorBody(error, request.routeOptions.bodyLimit ?? bodyLimitBytes)
      if (body.code === 'overloaded') request.log.warn({ code: body.code }, 'request shed: overloaded')
      else if (body.code === 'database_unavailable' || body.code === 'database_not_migrated')
        // The cause is logged once per outage (start-up watch, background work), not as a stack per request.
        request.log.warn({ code: body.code, reason: databaseProblem(error) }, 'request refused: database')
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

import createError from '@fastify/error'
import type { FastifyError, FastifyInstance } from 'fastify'
import fp from 'fastify-plugin'
import { hasZodFastifySchemaValidationErrors } from 'fastify-type-provider-zod'
import { z } from 'zod'
import { isDatabaseDown } from './db/database-errors.js'

/**
 * Every error a caller can meet, with a stable machine-readable `code`. Replies always take the shape
 * `{ statusCode, error, message, code }`, plus `details` for validation errors.
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
export const InvalidIdempotencyKey = createError(
  'invalid_idempotency_key',
  'Idempotency-Key: must be 1 to 255 printable ASCII characters',
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
/** The one error shape, as the OpenAPI document and the route schemas describe it. */
export const errorResponse = z
  .object({
    statusCode: z.number(),
    error: z.string(),
    message: z.string(),
    code: z.string(),
    details: z.array(z.object({ field: z.string(), message: z.string() })).optional(),
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

interface ErrorBody {
  statusCode: number
  error: string
  message: string
  code: string
  details?: { field: string; message: string }[]
}

// Fastify's own errors for malformed requests, renamed to this service's vocabulary.
const FASTIFY_CODES: Record<string, string> = {
  FST_ERR_CTP_INVALID_MEDIA_TYPE: 'unsupported_media_type',
  FST_ERR_CTP_BODY_TOO_LARGE: 'payload_too_large',
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

export function errorBody(statusCode: number, code: string, message: string): ErrorBody {
  return { statusCode, error: STATUS_NAMES[statusCode] ?? 'Error', message, code }
}

function toErrorBody(error: FastifyError): ErrorBody {
  if (hasZodFastifySchemaValidationErrors(error)) {
    const where = error.validationContext ?? 'request'
    const details = error.validation.map((issue) => ({
      field: issue.instancePath.replace(/^\//, '').replaceAll('/', '.') || where,
      message: issue.message ?? 'is invalid',
    }))
    const message = details.map((detail) => `${detail.field}: ${detail.message}`).join('; ')
    return { ...errorBody(400, 'validation_failed', message), details }
  }
  if ((error as unknown) instanceof InvalidField) {
    const { field, reason } = error as unknown as InvalidField
    return {
      ...errorBody(400, 'validation_failed', `${field}: ${reason}`),
      details: [{ field, message: reason }],
    }
  }
  if (error.code === 'FST_UNDER_PRESSURE')
    return errorBody(503, 'overloaded', 'the service is overloaded; retry shortly')
  if (isDatabaseDown(error))
    return errorBody(503, 'database_unavailable', 'the database is unavailable; retry shortly')
  const statusCode = error.statusCode ?? 500
  if (statusCode >= 500) return errorBody(statusCode, 'internal_error', 'something went wrong on our side')
  if (error instanceof SyntaxError)
    return errorBody(400, 'invalid_json', `the body is not valid JSON: ${error.message}`)
  // @fastify/error upper-cases codes; this service's codes are lower snake case.
  const code =
    FASTIFY_CODES[error.code] ??
    (error.code?.startsWith('FST_') ? 'invalid_request' : error.code?.toLowerCase())
  return errorBody(statusCode, code ?? 'invalid_request', error.message)
}

/** The one error handler: known errors keep their code, anything else becomes a 500 with no details. */
export const errorHandlerPlugin = fp(
  async (app: FastifyInstance) => {
    app.setErrorHandler((error: FastifyError, request, reply) => {
      const body = toErrorBody(error)
      if (body.code === 'overloaded') request.log.warn({ code: body.code }, 'request shed: overloaded')
      else if (body.statusCode >= 500) request.log.error({ err: error }, 'request failed')
      else request.log.info({ code: body.code, message: body.message }, 'request refused')
      if (body.statusCode === 503 && !reply.hasHeader('retry-after')) reply.header('retry-after', '5')
      return reply.code(body.statusCode).send(body)
    })
    app.setNotFoundHandler((request, reply) =>
      reply
        .code(404)
        .send(
          errorBody(404, 'route_not_found', `no route for ${request.method} ${request.url.split('?')[0]}`),
        ),
    )
  },
  { name: 'error-handler' },
)

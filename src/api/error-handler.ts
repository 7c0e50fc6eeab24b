import type { FastifyError, FastifyInstance, FastifyRequest } from 'fastify'
import fp from 'fastify-plugin'
import { hasZodFastifySchemaValidationErrors } from 'fastify-type-provider-zod'
import { databaseProblem, isDatabaseDown, isDatabaseNotMigrated } from '../db/database-errors.js'
import { fieldsMessage, InvalidField, InvalidFields, STATUS_NAMES } from './error-catalog.js'
import { routeTable } from './route-table.js'

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

import { z } from 'zod'
import { REQUEST_ERRORS, type RequestErrorCode, STATUS_NAMES } from './error-catalog.js'

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

/** What any route of the callers' API can answer: the caller's checks, and a service that cannot. */
export const CALLER_ERRORS = [
  'unauthorized',
  'host_not_allowed',
  'rate_limited',
  'database_unavailable',
  'database_not_migrated',
  'overloaded',
] as const

/** What a POST that creates (a caption, a batch) can answer besides 202. */
export const CREATE_ERRORS = [
  'validation_failed',
  'invalid_json',
  'invalid_request',
  'invalid_idempotency_key',
  'budget_exceeded',
  'idempotency_key_in_progress',
  'payload_too_large',
  'unsupported_media_type',
  'idempotency_key_reused',
  ...CALLER_ERRORS,
] as const

/** What a GET of a page of a list can answer besides 200. */
export const LIST_ERRORS = ['validation_failed', 'invalid_cursor', ...CALLER_ERRORS] as const

/** What asking for a caption's or batch's callback event again can answer besides 202. */
export const RESEND_ERRORS = [
  'validation_failed',
  'invalid_json',
  'invalid_url',
  'no_callback_url',
  'not_found',
  'caption_not_finished',
  'payload_too_large',
  'unsupported_media_type',
  ...CALLER_ERRORS,
] as const

/** What canceling a batch's waiting items can answer besides 200 (it takes no body). */
export const CANCEL_BATCH_ERRORS = [
  'validation_failed',
  'invalid_json',
  'invalid_url',
  'not_found',
  'payload_too_large',
  'unsupported_media_type',
  ...CALLER_ERRORS,
] as const

/** What retrying a failed caption can answer besides 202. */
export const RETRY_ERRORS = [
  'validation_failed',
  'invalid_json',
  'invalid_url',
  'budget_exceeded',
  'not_found',
  'caption_not_failed',
  'payload_too_large',
  'unsupported_media_type',
  ...CALLER_ERRORS,
] as const

/** What canceling a caption can answer besides 200: also that it is with GoAPI, or finished. */
export const CANCEL_ERRORS = [
  ...CANCEL_BATCH_ERRORS,
  'caption_already_submitted',
  'caption_finished',
] as const

/** What a GET of one caption or batch, or of something of it, can answer besides 200. */
export const READ_ONE_ERRORS = ['validation_failed', 'invalid_url', 'not_found', ...CALLER_ERRORS] as const

/** The headers of a 202 that created something: where it is, and whether this is a replay. */
export function acceptedHeaders(location: string) {
  return {
    location: { type: 'string', description: location },
    'idempotent-replayed': {
      type: 'string',
      enum: ['true'],
      description: 'Present when this is the first answer to the same Idempotency-Key again',
    },
  }
}

/** The headers of a create answered after `Prefer: wait`: a 202's, and the wait that was applied. */
export function waitedHeaders(location: string) {
  return {
    ...acceptedHeaders(location),
    'preference-applied': {
      type: 'string',
      pattern: '^wait=[1-9][0-9]?$',
      description: 'Present when a Prefer: wait was honoured: the seconds the answer could wait (wait=N)',
    },
  }
}

import createError from '@fastify/error'

/**
 * Every code a request can be refused with, its HTTP status and what it means: the one place a status
 * is written. The error constructors below read their status from here, and the error responses each
 * route lists in the OpenAPI document (`errorResponses`) are built from it.
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
  caption_already_submitted: {
    status: 409,
    meaning:
      'GoAPI has accepted the caption (or is being sent it), and GoAPI cannot cancel a task: it finishes and is paid',
  },
  caption_finished: {
    status: 409,
    meaning: 'the caption has already completed or failed, so there is nothing left to cancel',
  },
  caption_not_failed: {
    status: 409,
    meaning: 'only a failed caption can be retried; this one is queued, in progress or completed',
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

/**
 * An error a caller can meet, with its catalogued `code` and the status the catalog gives that code;
 * `%s` in the message is filled from the constructor's arguments. Replies always take the shape
 * `{ statusCode, error, message, code, details }` (see error-handler.ts).
 */
export function apiError<Args extends unknown[] = []>(code: RequestErrorCode, message: string) {
  return createError<Args>(code, message, REQUEST_ERRORS[code].status)
}

export const Unauthorized = apiError<[string]>('unauthorized', '%s')
export const RateLimited = apiError<[string, string]>('rate_limited', 'too many %s requested; retry in %s')
/** With caller authentication off, the caller API answers only requests addressed to this machine. */
export const HostNotAllowed = apiError<[string]>(
  'host_not_allowed',
  'caller authentication is off, so this API answers only requests to localhost, 127.0.0.1 or [::1], not to the Host "%s"',
)
/** The request's path itself is malformed (bad percent-encoding, an over-long parameter). */
export const InvalidUrl = apiError<[string]>('invalid_url', '%s')
export const CaptionNotFound = apiError<[string]>('not_found', 'caption %s was not found')
export const CaptionNotFailed = apiError<[string, string]>(
  'caption_not_failed',
  'caption %s is %s: only a failed caption can be retried',
)
export const BatchNotFound = apiError<[string]>('not_found', 'batch %s was not found')
export const InvalidCursor = apiError('invalid_cursor', 'cursor: is not a cursor this service issued')
export const WebhookUnauthorized = apiError(
  'webhook_unauthorized',
  'x-webhook-secret is missing or does not match this caption',
)
export const InvalidWebhookPayload = apiError<[string]>(
  'invalid_webhook_payload',
  'the webhook body is not a GoAPI task delivery: %s',
)
export const InvalidIdempotencyKey = apiError<[string]>('invalid_idempotency_key', 'Idempotency-Key: %s')
export const IdempotencyKeyReused = apiError(
  'idempotency_key_reused',
  'Idempotency-Key: this key was already used with a different request body',
)
export const IdempotencyKeyInProgress = apiError(
  'idempotency_key_in_progress',
  'Idempotency-Key: a request with this key is still being processed; retry shortly',
)
export const NoCallbackUrl = apiError<[string]>(
  'no_callback_url',
  'caption %s has no callbackUrl, so there is no event to send',
)
export const CaptionNotFinished = apiError<[string]>(
  'caption_not_finished',
  'caption %s is not finished yet; its event is sent when it completes or fails',
)
export const CaptionAlreadySubmitted = apiError<[string]>(
  'caption_already_submitted',
  'caption %s is already with GoAPI, which cannot cancel it: it will finish and is paid',
)
export const CaptionFinished = apiError<[string, string]>(
  'caption_finished',
  'caption %s has already %s; there is nothing to cancel',
)
/** Work that would take a caller past its daily budget (CALLER_BUDGETS); amounts in dollars ($5.00). */
export const BudgetExceeded = apiError<[string, string, string, string]>(
  'budget_exceeded',
  'daily budget of %s for caller "%s" exceeded: %s spent today, %s asked',
)
export const BatchNoCallbackUrl = apiError<[string]>(
  'no_callback_url',
  'batch %s has no callbackUrl, so there is no event to send',
)
/** A batch has its event once every item has finished: the same code as a caption not finished. */
export const BatchNotCompleted = apiError<[string]>(
  'caption_not_finished',
  'batch %s is not completed yet; its event is sent once every item has completed or failed',
)

/** A field that passed the schema but not a rule that depends on how the service is run. */
export class InvalidField extends Error {
  readonly statusCode = REQUEST_ERRORS.validation_failed.status
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
  readonly statusCode = REQUEST_ERRORS.validation_failed.status
  constructor(readonly fields: readonly InvalidField[]) {
    super(fieldsMessage(fields.map(({ field, reason }) => ({ field, message: reason }))))
    this.name = 'InvalidFields'
  }
}

/** How many fields at fault a message names; `details` lists them all. */
export const MAX_FIELDS_IN_MESSAGE = 20

/** `a: why; b: why`, the first MAX_FIELDS_IN_MESSAGE of them, then `; and N more`. */
export function fieldsMessage(details: readonly { field: string; message: string }[]): string {
  const named = details.slice(0, MAX_FIELDS_IN_MESSAGE).map((detail) => `${detail.field}: ${detail.message}`)
  const more = details.length - named.length
  return more > 0 ? `${named.join('; ')}; and ${more} more` : named.join('; ')
}

/** The reason phrase of each status the service answers with. */
export const STATUS_NAMES: Record<number, string> = {
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

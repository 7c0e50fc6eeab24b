import type { FastifyRequest } from 'fastify'
import type { FastifyPluginAsyncZod } from 'fastify-type-provider-zod'
import { authenticateCaller } from '../auth/caller-auth.js'
import { deliveryList, isNoBody } from '../callbacks/callbacks.schemas.js'
import type { ApiToken } from '../config.js'
import type { ServiceDeps } from '../deps.js'
import { errorResponses, InvalidField, InvalidIdempotencyKey, RateLimited } from '../errors.js'
import { listCaptionDeliveries, resendCallback } from './caption-callbacks.js'
import { bindCaptionToRequest } from './caption-log.js'
import {
  captionList,
  captionParams,
  captionResource,
  createCaptionBody,
  createCaptionHeaders,
  listCaptionsQuery,
} from './captions.schemas.js'
import { createCaption, getCaption, listCaptionPage, toCaptionResource } from './captions.service.js'

/** What a POST that creates (a caption, a batch) can answer besides 202. */
export const CREATE_ERRORS = [
  'validation_failed',
  'invalid_json',
  'invalid_request',
  'invalid_idempotency_key',
  'unauthorized',
  'host_not_allowed',
  'budget_exceeded',
  'idempotency_key_in_progress',
  'payload_too_large',
  'unsupported_media_type',
  'idempotency_key_reused',
  'rate_limited',
  'database_unavailable',
  'database_not_migrated',
  'overloaded',
] as const

/** What a GET of a page of a list can answer besides 200. */
export const LIST_ERRORS = [
  'validation_failed',
  'invalid_cursor',
  'unauthorized',
  'host_not_allowed',
  'rate_limited',
  'database_unavailable',
  'database_not_migrated',
  'overloaded',
] as const

/** What asking for a caption's or batch's callback event again can answer besides 202. */
export const RESEND_ERRORS = [
  'validation_failed',
  'invalid_json',
  'invalid_url',
  'no_callback_url',
  'unauthorized',
  'host_not_allowed',
  'not_found',
  'caption_not_finished',
  'payload_too_large',
  'unsupported_media_type',
  'rate_limited',
  'database_unavailable',
  'database_not_migrated',
  'overloaded',
] as const

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

/** What a GET of one caption or batch, or of something of it, can answer besides 200. */
export const READ_ONE_ERRORS = [
  'validation_failed',
  'invalid_url',
  'unauthorized',
  'host_not_allowed',
  'rate_limited',
  'not_found',
  'database_unavailable',
  'database_not_migrated',
  'overloaded',
] as const

/** What a plugin of the callers' API takes: the service, and the tokens its callers authenticate with. */
export interface CallerRoutesOptions {
  deps: ServiceDeps
  apiTokens: readonly ApiToken[]
  /** Each GET route's allowance per caller per minute (RATE_LIMIT_READS_PER_MINUTE). */
  readsPerMinute: number
}

/** What a plugin with a resend route takes besides: RESEND_RATE_LIMIT_PER_MINUTE. */
export interface ResendRoutesOptions extends CallerRoutesOptions {
  resendRateLimitPerMinute: number
}

/** What a plugin with a create route takes besides: RATE_LIMIT_PER_MINUTE. */
export interface CreateRoutesOptions extends CallerRoutesOptions {
  rateLimitPerMinute: number
}

export type CaptionsRoutesOptions = CreateRoutesOptions & ResendRoutesOptions

/** The callers' API. Every route here needs a caller token (when tokens are configured). */
export const captionsRoutes: FastifyPluginAsyncZod<CaptionsRoutesOptions> = async (app, options) => {
  const { deps } = options
  app.addHook('onRequest', authenticateCaller(options.apiTokens))

  app.post(
    '/captions',
    {
      config: { rateLimit: perCallerRateLimit(options.rateLimitPerMinute) },
      schema: {
        summary: 'Caption an image',
        operationId: 'createCaption',
        tags: ['captions'],
        description:
          'Records the caption, sends it to GoAPI and answers once GoAPI has answered the create call. ' +
          'With an Idempotency-Key, the same key and body within 24 hours return the first answer again.',
        headers: createCaptionHeaders,
        body: createCaptionBody,
        response: {
          202: captionResource.meta({
            description: 'Accepted: the caption, to read again at Location until it is completed or failed',
            headers: acceptedHeaders('The caption: /captions/{id}'),
          }),
          ...errorResponses(...CREATE_ERRORS),
        },
      },
    },
    async (request, reply) => {
      const result = await createCaption(
        { ...deps, log: request.log },
        {
          input: request.body,
          caller: request.caller,
          idempotencyKey: idempotencyKeyOf(request),
          traceParent: request.headers.traceparent,
        },
      )
      // The request's own lines (Fastify's "request completed" among them) name the caption from here on.
      bindCaptionToRequest(request.log, result.body)
      if (result.replayed) reply.header('idempotent-replayed', 'true')
      return reply.code(result.statusCode).header('location', `/captions/${result.body.id}`).send(result.body)
    },
  )

  app.get(
    '/captions/:id',
    {
      config: { rateLimit: perCallerRateLimit(options.readsPerMinute, 'reads') },
      schema: {
        summary: 'Read one caption',
        operationId: 'getCaption',
        tags: ['captions'],
        params: captionParams,
        response: {
          200: captionResource.meta({ description: 'The caption' }),
          ...errorResponses(...READ_ONE_ERRORS),
        },
      },
    },
    async (request) => {
      const caption = await getCaption(deps, request.params.id, request.caller)
      // The request's own lines, Fastify's "request completed" among them, name the caption and its task.
      bindCaptionToRequest(request.log, caption)
      return toCaptionResource(caption)
    },
  )

  app.get(
    '/captions',
    {
      config: { rateLimit: perCallerRateLimit(options.readsPerMinute, 'reads') },
      schema: {
        summary: 'List captions, newest first',
        operationId: 'listCaptions',
        tags: ['captions'],
        querystring: listCaptionsQuery,
        response: {
          200: captionList,
          ...errorResponses(...LIST_ERRORS),
        },
      },
    },
    async (request) => {
      const page = await listCaptionPage(deps, request.query, request.caller)
      return { items: page.items.map(toCaptionResource), nextCursor: page.nextCursor }
    },
  )

  app.get(
    '/captions/:id/deliveries',
    {
      config: { rateLimit: perCallerRateLimit(options.readsPerMinute, 'reads') },
      schema: {
        summary: "Every attempt to deliver the caption's callback event, oldest first",
        operationId: 'listCaptionDeliveries',
        tags: ['captions'],
        params: captionParams,
        response: {
          200: deliveryList,
          ...errorResponses(...READ_ONE_ERRORS),
        },
      },
    },
    async (request) => ({ items: await listCaptionDeliveries(deps, request.params.id, request.caller) }),
  )

  app.post(
    '/captions/:id/deliveries/retry',
    {
      config: { rateLimit: perCallerRateLimit(options.resendRateLimitPerMinute, 'callback resends') },
      schema: {
        summary: "Send the finished caption's callback event again now, with the same webhook-id",
        operationId: 'retryCaptionDeliveries',
        tags: ['captions'],
        params: captionParams,
        response: {
          202: captionResource.meta({ description: 'The caption; its callback is pending again' }),
          ...errorResponses(...RESEND_ERRORS),
        },
      },
    },
    async (request, reply) => {
      refuseBody(request.body)
      return reply.code(202).send(await resendCallback(deps, request.params.id, request.caller))
    },
  )
}

/** Per caller, so one noisy caller cannot spend another's share; per replica (kept in memory). */
export function perCallerRateLimit(perMinute: number, what = 'captions') {
  return {
    max: perMinute,
    timeWindow: 60_000,
    keyGenerator: (request: FastifyRequest) =>
      request.caller ? `caller:${request.caller}` : `ip:${request.ip}`,
    errorResponseBuilder: (_request: FastifyRequest, context: { after: string }) =>
      new RateLimited(what, context.after),
  }
}

/**
 * The Idempotency-Key header, sent at most once. Node joins repeated headers it does not know into one
 * value ("a1, a2"), which would pass as one valid key, so repeats are counted in the raw headers.
 */
export function idempotencyKeyOf(request: FastifyRequest): string | undefined {
  const raw = request.raw.rawHeaders
  let sent = 0
  for (let index = 0; index < raw.length; index += 2) {
    if (raw[index]?.toLowerCase() === 'idempotency-key') sent++
  }
  if (sent > 1) throw new InvalidIdempotencyKey('send the header once')
  const key = request.headers['idempotency-key']
  return Array.isArray(key) ? key[0] : key
}

/** A route that takes no body refuses one that is not empty, rather than ignoring what it says. */
export function refuseBody(body: unknown): void {
  if (!isNoBody(body)) throw new InvalidField('body', 'must be empty: this route takes no body')
}

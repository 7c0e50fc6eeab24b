import type { FastifyRequest } from 'fastify'
import type { FastifyPluginAsyncZod } from 'fastify-type-provider-zod'
import { authenticateCaller } from '../auth/caller-auth.js'
import type { ApiToken } from '../config.js'
import type { ServiceDeps } from '../deps.js'
import { errorResponse, InvalidIdempotencyKey, RateLimited } from '../errors.js'
import {
  captionList,
  captionParams,
  captionResource,
  createCaptionBody,
  deliveryList,
  listCaptionsQuery,
  retryDeliveryBody,
} from './captions.schemas.js'
import { createCaption, getCaption, listCaptionPage, toCaptionResource } from './captions.service.js'
import { listCaptionDeliveries, resendCallback } from './deliveries.service.js'

export interface CaptionsRoutesOptions {
  deps: ServiceDeps
  apiTokens: readonly ApiToken[]
  rateLimitPerMinute: number
}

/** The callers' API. Every route here needs a caller token (when tokens are configured). */
export const captionsRoutes: FastifyPluginAsyncZod<CaptionsRoutesOptions> = async (app, options) => {
  const { deps } = options
  app.addHook('onRequest', authenticateCaller(options.apiTokens))

  app.post(
    '/captions',
    {
      config: {
        // Per caller, so one noisy caller cannot spend another's share; per replica (kept in memory).
        rateLimit: {
          max: options.rateLimitPerMinute,
          timeWindow: 60_000,
          keyGenerator: (request) => (request.caller ? `caller:${request.caller}` : `ip:${request.ip}`),
          errorResponseBuilder: (_request, context) => new RateLimited(context.after),
        },
      },
      schema: {
        summary: 'Caption an image',
        body: createCaptionBody,
        response: {
          202: captionResource,
          400: errorResponse,
          401: errorResponse,
          409: errorResponse,
          413: errorResponse,
          415: errorResponse,
          422: errorResponse,
          429: errorResponse,
        },
      },
    },
    async (request, reply) => {
      const result = await createCaption(
        { ...deps, log: request.log },
        { input: request.body, caller: request.caller, idempotencyKey: idempotencyKeyOf(request) },
      )
      if (result.replayed) reply.header('idempotent-replayed', 'true')
      return reply.code(result.statusCode).header('location', `/captions/${result.body.id}`).send(result.body)
    },
  )

  app.get(
    '/captions/:id',
    {
      schema: {
        summary: 'Read one caption',
        params: captionParams,
        response: { 200: captionResource, 400: errorResponse, 401: errorResponse, 404: errorResponse },
      },
    },
    async (request) => toCaptionResource(await getCaption(deps, request.params.id, request.caller)),
  )

  app.get(
    '/captions',
    {
      schema: {
        summary: 'List captions, newest first',
        querystring: listCaptionsQuery,
        response: { 200: captionList, 400: errorResponse, 401: errorResponse },
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
      schema: {
        summary: "Every attempt to deliver the caption's callback event, oldest first",
        params: captionParams,
        response: { 200: deliveryList, 400: errorResponse, 401: errorResponse, 404: errorResponse },
      },
    },
    async (request) => ({ items: await listCaptionDeliveries(deps, request.params.id, request.caller) }),
  )

  app.post(
    '/captions/:id/deliveries/retry',
    {
      schema: {
        summary: "Send the finished caption's callback event again now, with the same webhook-id",
        params: captionParams,
        body: retryDeliveryBody,
        response: {
          202: captionResource,
          400: errorResponse,
          401: errorResponse,
          404: errorResponse,
          409: errorResponse,
        },
      },
    },
    async (request, reply) =>
      reply.code(202).send(await resendCallback(deps, request.params.id, request.caller)),
  )
}

/**
 * The Idempotency-Key header, sent at most once. Node joins repeated headers it does not know into one
 * value ("a1, a2"), which would pass as one valid key, so repeats are counted in the raw headers.
 */
function idempotencyKeyOf(request: FastifyRequest): string | undefined {
  const raw = request.raw.rawHeaders
  let sent = 0
  for (let index = 0; index < raw.length; index += 2) {
    if (raw[index]?.toLowerCase() === 'idempotency-key') sent++
  }
  if (sent > 1) throw new InvalidIdempotencyKey('send the header once')
  const key = request.headers['idempotency-key']
  return Array.isArray(key) ? key[0] : key
}

import { z } from 'zod'
import type { CallerRoutes } from '../api/caller-api.js'
import { CaptionNotFound } from '../api/error-catalog.js'
import {
  acceptedHeaders,
  CANCEL_ERRORS,
  CREATE_ERRORS,
  errorResponses,
  LIST_ERRORS,
  READ_ONE_ERRORS,
  RESEND_ERRORS,
  RETRY_ERRORS,
  waitedHeaders,
} from '../api/error-responses.js'
import { pageJsonText, sendJsonText } from '../api/json-text.js'
import { holdRequest, preferredWait } from '../api/prefer-wait.js'
import { perCallerRateLimit } from '../api/rate-limit.js'
import { idempotencyKeyOf, refuseBody } from '../api/request-checks.js'
import { deliveryList } from '../callbacks/callbacks.schemas.js'
import { cancelCaption } from './cancel.js'
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
import { createCaption, getCaptionJson, listCaptionPage } from './captions.service.js'
import { eraseCaption } from './erase.repository.js'
import { retryCaption } from './retry.js'
import { isTerminal } from './statuses.js'
import { waitForFinalCaption } from './wait-for-final.js'

/** The callers' API of captions. Every route here needs a caller token (when tokens are configured). */
export const captionsRoutes: CallerRoutes = async (app, options) => {
  const { deps } = options

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
          'With an Idempotency-Key, the same key and body within 24 hours return the first answer again. ' +
          'With `Prefer: wait=N`, the answer waits until the caption is final (200) or N seconds pass (202); ' +
          'a replay with it waits on the same caption.',
        headers: createCaptionHeaders,
        body: createCaptionBody,
        response: {
          200: captionResource.meta({
            description:
              'With Prefer: wait, the caption, final (completed, failed or canceled) within the wait',
            headers: waitedHeaders('The caption: /captions/{id}'),
          }),
          202: captionResource.meta({
            description: 'Accepted: the caption, to read again at Location until it is completed or failed',
            headers: waitedHeaders('The caption: /captions/{id}'),
          }),
          ...errorResponses(...CREATE_ERRORS),
        },
      },
    },
    async (request, reply) => {
      const waitSeconds = preferredWait(request.headers.prefer)
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
      reply.header('location', `/captions/${result.body.id}`)
      if (waitSeconds === undefined) return reply.code(result.statusCode).send(result.body)

      reply.header('preference-applied', `wait=${waitSeconds}`)
      // Counted from the request's arrival: the create call's own time is part of the wait.
      const ms = waitSeconds * 1000 - reply.elapsedTime
      const held = holdRequest(request, reply, ms)
      try {
        const caption = await waitForFinalCaption(deps, {
          caption: result.body,
          caller: request.caller,
          ms,
          signal: held.signal,
        })
        if (caption === undefined) {
          // Nobody is left to answer: not an error, and nothing changes for the caption.
          request.log.info('the caller hung up while waiting; the caption carries on')
          return reply.code(result.statusCode).send(result.body)
        }
        return reply.code(isTerminal(caption.status) ? 200 : result.statusCode).send(caption)
      } finally {
        held.release()
      }
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
    async (request, reply) => {
      const caption = await getCaptionJson(deps, request.params.id, request.caller)
      // The request's own lines, Fastify's "request completed" among them, name the caption and its task.
      bindCaptionToRequest(request.log, caption)
      return sendJsonText(reply, caption.resource)
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
    async (request, reply) => {
      const page = await listCaptionPage(deps, request.query, request.caller)
      return sendJsonText(reply, pageJsonText(page.items, page.nextCursor))
    },
  )

  app.post(
    '/captions/:id/cancel',
    {
      config: { rateLimit: perCallerRateLimit(options.rateLimitPerMinute) },
      schema: {
        summary: 'Cancel a caption GoAPI has not been sent yet',
        operationId: 'cancelCaption',
        tags: ['captions'],
        description:
          'A `queued` caption not yet sent to GoAPI becomes `canceled` at once and is never sent; its budget ' +
          'hold is given back and its callback (if any) gets the event `caption.canceled`. Canceling a ' +
          'canceled caption again answers the same. GoAPI cannot cancel a task: a caption GoAPI has ' +
          'accepted (or is being sent) finishes and is paid (`caption_already_submitted`).',
        params: captionParams,
        response: {
          200: captionResource.meta({ description: 'The caption, canceled' }),
          ...errorResponses(...CANCEL_ERRORS),
        },
      },
    },
    async (request) => {
      refuseBody(request.body)
      return cancelCaption(deps, request.params.id, request.caller)
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

  app.delete(
    '/captions/:id',
    {
      config: { rateLimit: perCallerRateLimit(options.rateLimitPerMinute) },
      schema: {
        summary: 'Erase a caption',
        operationId: 'deleteCaption',
        tags: ['captions'],
        description:
          'Erases the caption and everything kept for it: the image URL, metadata, caption text, the GoAPI ' +
          'task, its callback event and deliveries. A caption GoAPI still works on is erased the same way: ' +
          'its late news is acknowledged and changes nothing, and it is never sent again. What it cost stays ' +
          'counted in GET /usage. A caption GoAPI never had gives its budget hold back.',
        params: captionParams,
        response: {
          204: z.null().meta({ description: 'Erased' }),
          ...errorResponses(...READ_ONE_ERRORS),
        },
      },
    },
    async (request, reply) => {
      if (!(await eraseCaption(deps.sql, request.params.id, request.caller)))
        throw new CaptionNotFound(request.params.id)
      return reply.code(204).send(null)
    },
  )

  app.post(
    '/captions/:id/retry',
    {
      config: { rateLimit: perCallerRateLimit(options.rateLimitPerMinute) },
      schema: {
        summary: 'Retry a failed caption: same id, a new GoAPI task',
        operationId: 'retryCaption',
        tags: ['captions'],
        description:
          'A failed caption goes back to queued under the same id, for a new GoAPI task, and its retries ' +
          'count goes up by one. Its budget is checked as for a new caption (402 and nothing changed when ' +
          'over). Its next final callback event is a new event, with a new webhook-id.',
        params: captionParams,
        response: {
          202: captionResource.meta({
            description: 'Accepted: the caption, queued again',
            headers: acceptedHeaders('The caption: /captions/{id}'),
          }),
          ...errorResponses(...RETRY_ERRORS),
        },
      },
    },
    async (request, reply) => {
      refuseBody(request.body)
      const caption = await retryCaption(deps, request.params.id, request.caller)
      return reply.code(202).header('location', `/captions/${caption.id}`).send(caption)
    },
  )
}

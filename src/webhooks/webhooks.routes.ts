import type { FastifyRequest } from 'fastify'
import type { FastifyPluginAsyncZod } from 'fastify-type-provider-zod'
import { z } from 'zod'
import { WebhookUnauthorized } from '../api/error-catalog.js'
import { errorResponses } from '../api/error-responses.js'
import { captionIdFromSecret } from '../captions/webhook-secret.js'
import type { ServiceDeps } from '../deps.js'
import { receiveWebhook } from './webhooks.service.js'

/**
 * GoAPI's deliveries are about 1 KiB (test/fixtures/webhook-completed.json); the largest parts are the
 * image URL (at most 2,048 characters here), the caption text and GoAPI's logs, a few KiB at most. The
 * limit leaves room for those many times over while keeping what a client can make the route read small.
 */
export const WEBHOOK_BODY_LIMIT_BYTES = 64 * 1024

export const webhooksRoutes: FastifyPluginAsyncZod<{ deps: ServiceDeps }> = async (app, { deps }) => {
  // The caption each authenticated delivery names, from its secret, checked before the body is read.
  const captionOf = new WeakMap<FastifyRequest, string>()
  app.post(
    '/webhooks/goapi',
    {
      schema: {
        summary: "GoAPI's task webhook",
        operationId: 'receiveGoapiWebhook',
        tags: ['webhooks'],
        description:
          'GoAPI posts `{ timestamp, data: <task> }` as a task moves. Answered 2xx only after the change is ' +
          'committed; duplicated and stale deliveries are acknowledged and change nothing.',
        security: [{ goapiWebhookSecret: [] }],
        // The body is checked inside, after the secret: a forged delivery learns nothing about its shape.
        body: z.unknown(),
        response: {
          200: z.object({
            received: z.literal(true),
            outcome: z.enum(['applied', 'unchanged', 'unknown_task']),
          }),
          ...errorResponses(
            'invalid_webhook_payload',
            'invalid_json',
            'invalid_request',
            'webhook_unauthorized',
            'payload_too_large',
            'unsupported_media_type',
            'database_unavailable',
            'database_not_migrated',
            'overloaded',
          ),
        },
      },
      bodyLimit: WEBHOOK_BODY_LIMIT_BYTES,
      // The only route the Ingress publishes: a delivery is authenticated from its header alone, before a
      // byte of its body is read or parsed, so a forged one costs a hash comparison and nothing more.
      onRequest: async (request) => {
        const secret = request.headers['x-webhook-secret']
        const captionId = captionIdFromSecret(Array.isArray(secret) ? secret[0] : secret, deps.webhook.keys)
        if (captionId === undefined) throw new WebhookUnauthorized()
        captionOf.set(request, captionId)
      },
      // Refusals are counted too (a forged delivery is worth an alert), body-parser refusals included.
      onResponse: async (_request, reply) => {
        if (reply.statusCode === 401) deps.metrics.webhooks.inc({ outcome: 'unauthorized' })
        else if (reply.statusCode === 400) deps.metrics.webhooks.inc({ outcome: 'invalid' })
      },
    },
    async (request) => {
      const outcome = await receiveWebhook(
        { ...deps, log: request.log },
        { captionId: captionOf.get(request) as string, body: request.body },
      )
      deps.metrics.webhooks.inc({ outcome })
      return { received: true as const, outcome }
    },
  )
}

import type { FastifyPluginAsyncZod } from 'fastify-type-provider-zod'
import { z } from 'zod'
import type { ServiceDeps } from '../deps.js'
import { errorResponses } from '../errors.js'
import { receiveWebhook } from './webhooks.service.js'

export const webhooksRoutes: FastifyPluginAsyncZod<{ deps: ServiceDeps }> = async (app, { deps }) => {
  app.post(
    '/webhooks/goapi',
    {
      schema: {
        summary: "GoAPI's task webhook",
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
      // Refusals are counted too (a forged delivery is worth an alert), body-parser refusals included.
      onResponse: async (_request, reply) => {
        if (reply.statusCode === 401) deps.metrics.webhooks.inc({ outcome: 'unauthorized' })
        else if (reply.statusCode === 400) deps.metrics.webhooks.inc({ outcome: 'invalid' })
      },
    },
    async (request) => {
      const secret = request.headers['x-webhook-secret']
      const outcome = await receiveWebhook(
        { ...deps, log: request.log },
        { secret: Array.isArray(secret) ? secret[0] : secret, body: request.body },
      )
      deps.metrics.webhooks.inc({ outcome })
      return { received: true as const, outcome }
    },
  )
}

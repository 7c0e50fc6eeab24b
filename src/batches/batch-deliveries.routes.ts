import type { FastifyPluginAsyncZod } from 'fastify-type-provider-zod'
import { authenticateCaller } from '../auth/caller-auth.js'
import { deliveryList, retryDeliveryBody } from '../captions/captions.schemas.js'
import type { ApiToken } from '../config.js'
import type { ServiceDeps } from '../deps.js'
import { errorResponses } from '../errors.js'
import { listBatchDeliveries, resendBatchCallback } from './batch-deliveries.service.js'
import './batch-deliveries.schemas.js' // the batch.completed event, for the OpenAPI document's webhooks
import { batchParams, batchResource } from './batches.schemas.js'

export interface BatchDeliveriesRoutesOptions {
  deps: ServiceDeps
  apiTokens: readonly ApiToken[]
}

/**
 * The log of a batch's `batch.completed` callback and re-sends of it, as for a caption's. Every route
 * here needs a caller token (when tokens are configured); another caller's batch is not found.
 */
export const batchDeliveriesRoutes: FastifyPluginAsyncZod<BatchDeliveriesRoutesOptions> = async (
  app,
  options,
) => {
  const { deps } = options
  app.addHook('onRequest', authenticateCaller(options.apiTokens))

  app.get(
    '/batches/:id/deliveries',
    {
      schema: {
        summary: "Every attempt to deliver the batch's batch.completed event, oldest first",
        tags: ['batches'],
        params: batchParams,
        response: {
          200: deliveryList,
          ...errorResponses(
            'validation_failed',
            'invalid_url',
            'unauthorized',
            'not_found',
            'database_unavailable',
            'overloaded',
          ),
        },
      },
    },
    async (request) => ({ items: await listBatchDeliveries(deps, request.params.id, request.caller) }),
  )

  app.post(
    '/batches/:id/deliveries/retry',
    {
      schema: {
        summary: "Send the completed batch's batch.completed event again now, with the same webhook-id",
        tags: ['batches'],
        params: batchParams,
        body: retryDeliveryBody,
        response: {
          202: batchResource.meta({ description: 'The batch; its callback is pending again' }),
          ...errorResponses(
            'validation_failed',
            'invalid_json',
            'invalid_url',
            'no_callback_url',
            'unauthorized',
            'not_found',
            'caption_not_finished',
            'payload_too_large',
            'unsupported_media_type',
            'database_unavailable',
            'overloaded',
          ),
        },
      },
    },
    async (request, reply) =>
      reply.code(202).send(await resendBatchCallback(deps, request.params.id, request.caller)),
  )
}

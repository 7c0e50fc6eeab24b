import type { CallerRoutes } from '../api/caller-api.js'
import { errorResponses, READ_ONE_ERRORS, RESEND_ERRORS } from '../api/error-responses.js'
import { perCallerRateLimit } from '../api/rate-limit.js'
import { refuseBody } from '../api/request-checks.js'
import { deliveryList } from '../callbacks/callbacks.schemas.js'
import { listBatchDeliveries, resendBatchCallback } from './batch-deliveries.service.js'
import './batch-deliveries.schemas.js' // the batch.completed event, for the OpenAPI document's webhooks
import { batchParams, batchResource } from './batches.schemas.js'

/**
 * The log of a batch's `batch.completed` callback and re-sends of it, as for a caption's. Every route
 * here needs a caller token (when tokens are configured); another caller's batch is not found.
 */
export const batchDeliveriesRoutes: CallerRoutes = async (app, options) => {
  const { deps } = options

  app.get(
    '/batches/:id/deliveries',
    {
      config: { rateLimit: perCallerRateLimit(options.readsPerMinute, 'reads') },
      schema: {
        summary: "Every attempt to deliver the batch's batch.completed event, oldest first",
        operationId: 'listBatchDeliveries',
        tags: ['batches'],
        params: batchParams,
        response: {
          200: deliveryList,
          ...errorResponses(...READ_ONE_ERRORS),
        },
      },
    },
    async (request) => ({ items: await listBatchDeliveries(deps, request.params.id, request.caller) }),
  )

  app.post(
    '/batches/:id/deliveries/retry',
    {
      config: { rateLimit: perCallerRateLimit(options.resendRateLimitPerMinute, 'callback resends') },
      schema: {
        summary: "Send the completed batch's batch.completed event again now, with the same webhook-id",
        operationId: 'retryBatchDeliveries',
        tags: ['batches'],
        params: batchParams,
        response: {
          202: batchResource.meta({ description: 'The batch; its callback is pending again' }),
          ...errorResponses(...RESEND_ERRORS),
        },
      },
    },
    async (request, reply) => {
      refuseBody(request.body)
      return reply.code(202).send(await resendBatchCallback(deps, request.params.id, request.caller))
    },
  )
}

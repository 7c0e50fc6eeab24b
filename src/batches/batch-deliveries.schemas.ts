import { z } from 'zod'
import { callbackWebhook } from '../callbacks/callbacks.schemas.js'
import { batchResource } from './batches.schemas.js'

/** What a batch's callbackUrl receives once every item of the batch has completed or failed. */
export const batchCompletedEvent = z
  .object({
    type: z.literal('batch.completed'),
    /** When the event was made: the same on every attempt and re-send of it. */
    timestamp: z.iso.datetime(),
    /** The batch as GET /batches/{id} showed it when the event was made. */
    data: batchResource,
  })
  .meta({ id: 'BatchCompletedEvent' })

/** OpenAPI 3.1 `webhooks`: the request this service sends to a batch's callbackUrl. */
export const batchWebhooks = {
  batchCompleted: callbackWebhook(
    "Every item of a batch finished: the batch's one event, POSTed to its callbackUrl and signed the same way",
    'BatchCompletedEvent',
  ),
}

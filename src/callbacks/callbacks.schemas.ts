import { z } from 'zod'
import { DELIVERY_ERRORS } from './delivery-failures.js'

/** Where telling the caller at a subject's callbackUrl stands (`none` without one). */
export const CALLBACK_STATES = ['none', 'pending', 'delivered', 'failed', 'gone'] as const
/** Every event a callback carries: a caption's, or a batch's once every item of it has finished. */
export const CALLBACK_EVENT_TYPES = [
  'caption.completed',
  'caption.failed',
  'caption.canceled',
  'batch.completed',
] as const
export type CallbackEventType = (typeof CALLBACK_EVENT_TYPES)[number]
export const DELIVERY_OUTCOMES = ['delivered', 'failed', 'gone', 'refused'] as const

const signatureHeader = (name: string, description: string) => ({
  name,
  in: 'header' as const,
  required: true,
  schema: { type: 'string' as const },
  description,
})

/** One kind of request this service sends to a callbackUrl, signed per Standard Webhooks. */
export const callbackWebhook = (summary: string, eventSchema: string) => ({
  post: {
    summary,
    description:
      'At least once: retried at once, then after about 1 s, 5 s, 30 s, 2 min, 10 min, 1 h and every 3 h (±20%) ' +
      'until CALLBACK_RETRY_WINDOW_SECONDS after the event, 10 s per attempt. A 2xx ends it, 410 stops it. ' +
      'Receivers verify the signature and de-duplicate by webhook-id.',
    parameters: [
      signatureHeader('webhook-id', "The event's id: the same on every attempt and re-send"),
      signatureHeader('webhook-timestamp', 'Unix seconds of this attempt'),
      signatureHeader(
        'webhook-signature',
        'v1,<base64 HMAC-SHA256 of id.timestamp.body>, one per CALLBACK_SIGNING_SECRET key, space-separated',
      ),
    ],
    requestBody: {
      required: true,
      content: { 'application/json': { schema: { $ref: `#/components/schemas/${eventSchema}` } } },
    },
    responses: {
      '200': { description: 'Any 2xx: delivered' },
      '410': { description: 'Gone: nothing more is sent unless the caller asks for a re-send' },
    },
  },
})

/** One attempt to deliver a caption's or batch's callback event; `eventId` is the `webhook-id` the caller saw. */
export const deliveryResource = z
  .object({
    id: z.uuid(),
    eventId: z.string(),
    eventType: z.enum(CALLBACK_EVENT_TYPES),
    attempt: z.number().int(),
    attemptedAt: z.iso.datetime(),
    url: z.string(),
    statusCode: z.number().int().nullable(),
    error: z
      .enum(DELIVERY_ERRORS)
      .nullable()
      .meta({
        description:
          'Why an attempt got no HTTP answer (null when the endpoint answered: see statusCode): timeout, ' +
          'connection_failed, tls_failed; not_allowed (outcome refused: CALLBACK_ALLOWED_HOSTS no longer ' +
          'allows the URL), not_signed (no CALLBACK_SIGNING_SECRET), interrupted (the service stopped first)',
      }),
    durationMs: z.number().int().nullable(),
    outcome: z.enum(DELIVERY_OUTCOMES).meta({
      description:
        'delivered (2xx), failed (retried on the schedule while the retry window lasts), gone (410: not ' +
        'retried), refused (not sent: the URL is no longer allowed; not retried)',
    }),
  })
  .meta({ id: 'Delivery' })
export type DeliveryResource = z.infer<typeof deliveryResource>

export const deliveryList = z.object({ items: z.array(deliveryResource) }).meta({
  id: 'DeliveryList',
  description: "A caption's or batch's callback delivery attempts, oldest first",
})

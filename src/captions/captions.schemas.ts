import { z } from 'zod'
import { httpUrl, idParams, metadataSchema, pageOf, pageQuery } from '../api/schemas.js'
import { CAPTION_LENGTHS, PROMPT_STYLES } from '../goapi/task.js'
import { DELIVERY_ERRORS } from './delivery-failures.js'
import { CAPTION_STATUSES } from './statuses.js'

export const CALLBACK_STATES = ['none', 'pending', 'delivered', 'failed', 'gone'] as const
export const CAPTION_EVENT_TYPES = ['caption.completed', 'caption.failed'] as const
/** Every event a callback carries: a caption's, or a batch's once every item of it has finished. */
export const CALLBACK_EVENT_TYPES = [...CAPTION_EVENT_TYPES, 'batch.completed'] as const
export const DELIVERY_OUTCOMES = ['delivered', 'failed', 'gone', 'refused'] as const

export const captionLengthSchema = z.enum(CAPTION_LENGTHS as [string, ...string[]], {
  error:
    'must be one of "any", "very short", "short", "medium-length", "long", "very long", ' +
    'or a word count as a string from "20" to "260" in steps of 10',
})

export const promptStyleSchema = z
  .enum(PROMPT_STYLES, { error: `must be one of: ${PROMPT_STYLES.map((s) => `"${s}"`).join(', ')}` })
  .default('Descriptive')

export const createCaptionBody = z.strictObject(
  {
    imageUrl: httpUrl.meta({
      format: 'uri',
      description: 'The image GoAPI fetches: an absolute http(s) URL, stored in its normalized form',
    }),
    promptStyle: promptStyleSchema,
    captionLength: captionLengthSchema.default('any'),
    callbackUrl: httpUrl
      .meta({
        format: 'uri',
        description:
          'Where the caption.completed or caption.failed event is posted when the caption finishes',
      })
      .optional(),
    metadata: metadataSchema.optional(),
    reuse: z
      .boolean({ error: 'must be true or false' })
      .meta({
        description:
          'Take the text of your caption of the same image, prompt style and length completed within ' +
          'REUSE_WINDOW_DAYS (or wait for one in progress) instead of paying for a new task',
      })
      .optional(),
  },
  { error: (issue) => (issue.code === 'unrecognized_keys' ? undefined : 'the body must be a JSON object') },
)
export type CreateCaptionInput = z.infer<typeof createCaptionBody>

export const captionParams = idParams('caption')

export const listCaptionsQuery = z.strictObject({
  status: z.enum(CAPTION_STATUSES, { error: `must be one of: ${CAPTION_STATUSES.join(', ')}` }).optional(),
  ...pageQuery.shape,
})

export const captionResource = z
  .object({
    id: z.uuid(),
    status: z.enum(CAPTION_STATUSES),
    imageUrl: z.string(),
    promptStyle: z.string(),
    captionLength: z.string(),
    caption: z.string().nullable(),
    error: z.object({ code: z.string(), message: z.string() }).nullable(),
    goapiTaskId: z.string().nullable(),
    metadata: z.record(z.string(), z.unknown()),
    callbackUrl: z.string().nullable(),
    /** Telling the caller at callbackUrl: `none` without one; see GET /captions/{id}/deliveries. */
    callback: z.object({ state: z.enum(CALLBACK_STATES), attempts: z.number().int() }),
    /** The batch it is an item of; null when it was posted alone. */
    batchId: z.uuid().nullable(),
    /** The item's name as given (null when none was given or it was posted alone). */
    name: z.string().nullable(),
    /** The file an export writes its caption to (batch items only). */
    fileName: z.string().nullable(),
    /** The earlier caption of the same image whose text it took instead of paying for a task. */
    reusedFrom: z.uuid().nullable(),
    /** What its GoAPI tasks cost: $0.01 each, resent ones included; 0 when reused. */
    costUsd: z.number(),
    createdAt: z.iso.datetime(),
    updatedAt: z.iso.datetime(),
    completedAt: z.iso.datetime().nullable(),
  })
  .meta({ id: 'Caption' })
export type CaptionResource = z.infer<typeof captionResource>

export const captionList = pageOf(captionResource, {
  id: 'CaptionPage',
  description: 'A page of captions, newest first',
})

/** What a caption's callbackUrl receives once the caption is completed or failed. */
export const callbackEvent = z
  .object({
    type: z.enum(CAPTION_EVENT_TYPES),
    /** When the event was made: the same on every attempt and re-send of it. */
    timestamp: z.iso.datetime(),
    /** The caption as GET /captions/{id} showed it when the event was made. */
    data: captionResource,
  })
  .meta({ id: 'CallbackEvent' })

const signatureHeader = (name: string, description: string) => ({
  name,
  in: 'header' as const,
  required: true,
  schema: { type: 'string' as const },
  description,
})

/** One kind of request this service sends to a callbackUrl, signed per Standard Webhooks. */
const callbackWebhook = (summary: string, eventSchema: string) => ({
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

/** OpenAPI 3.1 `webhooks`: the requests this service sends to a caption's or a batch's callbackUrl. */
export const callbackWebhooks = {
  captionFinished: callbackWebhook(
    'A caption finished: its event, POSTed to its callbackUrl and signed per Standard Webhooks',
    'CallbackEvent',
  ),
  // BatchCompletedEvent is defined beside the batch resource (batches/batch-deliveries.schemas.ts).
  batchCompleted: callbackWebhook(
    "Every item of a batch finished: the batch's one event, POSTed to its callbackUrl and signed the same way",
    'BatchCompletedEvent',
  ),
}

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

import { z } from 'zod'
import { MAX_WAIT_SECONDS } from '../api/prefer-wait.js'
import {
  httpUrl,
  idempotencyKeyHeaders,
  idParams,
  metadataSchema,
  pageOf,
  pageQuery,
} from '../api/schemas.js'
import { CALLBACK_STATES, callbackWebhook } from '../callbacks/callbacks.schemas.js'
import { CAPTION_LENGTHS, PROMPT_STYLES } from '../goapi/task.js'
import { instant } from '../spend/usage.schemas.js'
import { CAPTION_STATUSES } from './statuses.js'

export const CAPTION_EVENT_TYPES = ['caption.completed', 'caption.failed', 'caption.canceled'] as const
export type CaptionEventType = (typeof CAPTION_EVENT_TYPES)[number]

export const captionLengthSchema = z.enum(CAPTION_LENGTHS as [string, ...string[]], {
  error:
    'must be one of "any", "very short", "short", "medium-length", "long", "very long", ' +
    'or a word count as a string from "20" to "260" in steps of 10',
})

export const promptStyleSchema = z
  .enum(PROMPT_STYLES, { error: `must be one of: ${PROMPT_STYLES.map((s) => `"${s}"`).join(', ')}` })
  .default('Descriptive')

/** POST /captions' headers: an Idempotency-Key, and a Prefer to wait for the caption. */
export const createCaptionHeaders = idempotencyKeyHeaders.extend({
  prefer: z
    .string()
    .optional()
    .meta({
      description:
        `RFC 7240. \`wait=N\` (1 to ${MAX_WAIT_SECONDS}; \`wait\` alone: ${MAX_WAIT_SECONDS}) holds the answer until ` +
        'the caption is final (200) or N seconds have passed since the request came (202). A longer wait ' +
        `is held to ${MAX_WAIT_SECONDS}; \`wait=0\`, a value that is not a whole number, and every other ` +
        'preference are ignored (a plain 202, no Preference-Applied), never an error',
      examples: ['wait=30'],
    }),
})

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
          'Where the caption.completed, caption.failed or caption.canceled event is posted when the caption finishes',
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

const statusFilter = z
  .enum(CAPTION_STATUSES, { error: `must be one of: ${CAPTION_STATUSES.join(', ')}` })
  .optional()

/** A batch's captions: by status, in item order. */
export const batchCaptionsQuery = z.strictObject({ status: statusFilter, ...pageQuery.shape })

/** The caller's captions: every filter given applies (AND), newest first, a page at a time. */
export const listCaptionsQuery = z.strictObject({
  status: statusFilter,
  batchId: z
    .uuid({ error: 'must be a batch id (a UUID)' })
    .meta({ description: "Only the items of this batch of yours (another caller's batch lists nothing)" })
    .optional(),
  createdAfter: instant
    .optional()
    .meta({ description: 'Only captions created at or after this instant (inclusive)' }),
  createdBefore: instant
    .optional()
    .meta({ description: 'Only captions created before this instant (exclusive)' }),
  ...pageQuery.shape,
})
export type ListCaptionsQuery = z.infer<typeof listCaptionsQuery>

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
    /** How many times the caller retried it after it failed (POST /captions/{id}/retry). */
    retries: z.number().int(),
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

/** OpenAPI 3.1 `webhooks`: the request this service sends to a caption's callbackUrl. */
export const captionWebhooks = {
  captionFinished: callbackWebhook(
    'A caption finished: its event, POSTed to its callbackUrl and signed per Standard Webhooks',
    'CallbackEvent',
  ),
}

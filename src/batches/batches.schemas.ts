import { z } from 'zod'
import { httpUrl, idParams, metadataSchema, pageOf, pageQuery, storableText } from '../api/schemas.js'
import { CALLBACK_STATES } from '../callbacks/callbacks.schemas.js'
import {
  batchCaptionsQuery,
  captionLengthSchema,
  captionResource,
  promptStyleSchema,
} from '../captions/captions.schemas.js'

export const MAX_BATCH_ITEMS = 1000
const ITEMS_ERROR = `must hold 1 to ${MAX_BATCH_ITEMS} items`

export const batchItem = z.strictObject(
  {
    imageUrl: httpUrl.meta({ format: 'uri', description: 'The image GoAPI fetches, as for POST /captions' }),
    name: storableText(1000)
      .meta({
        description:
          "The item's name (a file stem): its export is <name>.txt, sanitized and made unique in the " +
          "batch. Default: the URL's file stem, else the item's index",
      })
      .optional(),
  },
  {
    error: (issue) => (issue.code === 'unrecognized_keys' ? undefined : 'must be an object with an imageUrl'),
  },
)

export const createBatchBody = z.strictObject(
  {
    items: z
      .array(batchItem, { error: ITEMS_ERROR })
      .min(1, { error: ITEMS_ERROR })
      .max(MAX_BATCH_ITEMS, { error: ITEMS_ERROR }),
    promptStyle: promptStyleSchema,
    captionLength: captionLengthSchema.default('any'),
    prepend: storableText(1000)
      .meta({
        description:
          'Put before each caption in exports (a trigger word, say); the captions stay as GoAPI wrote them',
      })
      .default(''),
    append: storableText(1000).meta({ description: 'Put after each caption in exports' }).default(''),
    callbackUrl: httpUrl
      .meta({
        format: 'uri',
        description: 'Where the batch.completed event is posted once every item has finished',
      })
      .optional(),
    metadata: metadataSchema.optional(),
    reuse: z
      .boolean({ error: 'must be true or false' })
      .meta({
        description:
          'Take the text of your caption of the same image, prompt style and length completed within ' +
          'REUSE_WINDOW_DAYS instead of paying again; identical items are paid once',
      })
      .default(true),
    dryRun: z
      .boolean({ error: 'must be true or false' })
      .meta({
        description:
          'Check the batch and quote it (200, BatchDryRun) without accepting it: nothing is written, ' +
          'held or sent',
      })
      .optional(),
  },
  { error: (issue) => (issue.code === 'unrecognized_keys' ? undefined : 'the body must be a JSON object') },
)
/** A batch as it is accepted: `dryRun` only chooses the answer, and is no part of the request's fingerprint. */
export type CreateBatchInput = Omit<z.infer<typeof createBatchBody>, 'dryRun'>

const usd = (description: string) => z.number().meta({ description: `${description}, in US dollars` })

/** POST /batches with `dryRun: true`: what the batch would cost and whether it fits, as of now. */
export const batchDryRun = z
  .object({
    dryRun: z.literal(true),
    /** The batch's items. */
    items: z.number().int(),
    /** Items that would be sent to GoAPI as new tasks: each distinct image not captioned already. */
    newTasks: z.number().int(),
    /** Items that would take the text of a caption completed within REUSE_WINDOW_DAYS at once. */
    reused: z.number().int(),
    costUsd: usd('What the new tasks would cost ($0.01 each)'),
    budget: z
      .object({
        limitUsd: usd("The caller's daily budget"),
        spentUsd: usd('What is held or spent of it today'),
        remainingUsd: usd('What is left of it today'),
        fits: z.boolean().meta({
          description:
            'Whether the batch would be accepted now: it holds $0.01 for every item not reused at once ' +
            '(given back by items that end up taking another caption’s text)',
        }),
      })
      .nullable()
      .meta({ description: 'null when the caller has no budget (CALLER_BUDGETS)' }),
  })
  .meta({ id: 'BatchDryRun' })
export type BatchDryRunResource = z.infer<typeof batchDryRun>

export const batchParams = idParams('batch')

export const listBatchesQuery = pageQuery
export { batchCaptionsQuery }

export const BATCH_STATUSES = ['running', 'completed'] as const

export const batchResource = z
  .object({
    id: z.uuid(),
    status: z.enum(BATCH_STATUSES),
    total: z.number().int(),
    counts: z.object({
      queued: z.number().int(),
      pending: z.number().int(),
      processing: z.number().int(),
      completed: z.number().int(),
      failed: z.number().int(),
      /** Items canceled before GoAPI was sent them (POST /batches/{id}/cancel). */
      canceled: z.number().int(),
    }),
    /** Items that took an earlier caption's text instead of paying for a task. */
    reused: z.number().int(),
    /** What the batch's GoAPI tasks cost so far: $0.01 each. */
    costUsd: z.number(),
    promptStyle: z.string(),
    captionLength: z.string(),
    prepend: z.string(),
    append: z.string(),
    callbackUrl: z.string().nullable(),
    /** Telling the caller at callbackUrl once the batch is completed: `none` without one. */
    callback: z.object({ state: z.enum(CALLBACK_STATES), attempts: z.number().int() }),
    metadata: z.record(z.string(), z.unknown()),
    createdAt: z.iso.datetime(),
    completedAt: z.iso.datetime().nullable(),
  })
  .meta({ id: 'Batch' })
export type BatchResource = z.infer<typeof batchResource>

export const batchList = pageOf(batchResource, {
  id: 'BatchPage',
  description: 'A page of batches, newest first',
})

export const batchCaptionList = pageOf(captionResource, {
  id: 'BatchCaptionPage',
  description: "A page of a batch's captions, in item order",
})

/** POST /batches/{id}/retry: how many failed items went back to queued. */
export const batchRetryResult = z.object({ retried: z.number().int() }).meta({ id: 'BatchRetry' })

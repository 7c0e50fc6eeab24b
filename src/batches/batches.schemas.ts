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
export const MAX_PROMPT_STYLES = 4
const STYLES_ERROR = `must be a list of 1 to ${MAX_PROMPT_STYLES} prompt styles`

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

export const createBatchBody = z
  .strictObject(
    {
      items: z
        .array(batchItem, { error: ITEMS_ERROR })
        .min(1, { error: ITEMS_ERROR })
        .max(MAX_BATCH_ITEMS, { error: ITEMS_ERROR }),
      promptStyle: promptStyleSchema
        .unwrap()
        .meta({
          description: 'The one prompt style of every item (default `Descriptive`); or give promptStyles',
        })
        .optional(),
      promptStyles: z
        .array(promptStyleSchema.unwrap(), { error: STYLES_ERROR })
        .min(1, { error: STYLES_ERROR })
        .max(MAX_PROMPT_STYLES, { error: STYLES_ERROR })
        .refine((styles) => new Set(styles).size === styles.length, { error: 'must not repeat a style' })
        .meta({
          description:
            `1 to ${MAX_PROMPT_STYLES} distinct prompt styles instead of promptStyle: each item is captioned ` +
            'once per style, each caption paid, reused, budgeted and counted like any other',
        })
        .optional(),
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
  .superRefine((body, context) => {
    if (body.promptStyle !== undefined && body.promptStyles !== undefined)
      context.addIssue({
        code: 'custom',
        path: ['promptStyles'],
        message: 'give promptStyle or promptStyles, not both',
      })
  })
/** A batch as it is accepted: `dryRun` only chooses the answer, and is no part of the request's fingerprint. */
export type CreateBatchInput = Omit<z.infer<typeof createBatchBody>, 'dryRun'>

const DEFAULT_PROMPT_STYLE = promptStyleSchema.parse(undefined)

/**
 * The body as the service takes it: with promptStyles, those; else the one promptStyle (its default when
 * none is given), written as before promptStyles existed, so that such a request's fingerprint (its
 * Idempotency-Key) is unchanged.
 */
export function batchInputOf(body: CreateBatchInput): CreateBatchInput {
  if (body.promptStyles !== undefined) return body
  return { ...body, promptStyle: body.promptStyle ?? DEFAULT_PROMPT_STYLE }
}

/** The styles each item of the batch is captioned in, in order. */
export function promptStylesOf(input: Pick<CreateBatchInput, 'promptStyle' | 'promptStyles'>): string[] {
  return input.promptStyles ?? [input.promptStyle ?? DEFAULT_PROMPT_STYLE]
}

const usd = (description: string) => z.number().meta({ description: `${description}, in US dollars` })

/** POST /batches with `dryRun: true`: what the batch would cost and whether it fits, as of now. */
export const batchDryRun = z
  .object({
    dryRun: z.literal(true),
    /** The batch's items. */
    items: z.number().int(),
    /** The captions it would make: one per item and prompt style. */
    captions: z.number().int(),
    /** Captions that would be sent to GoAPI as new tasks: each distinct image and style not captioned already. */
    newTasks: z.number().int(),
    /** Captions that would take the text of a caption completed within REUSE_WINDOW_DAYS at once. */
    reused: z.number().int(),
    costUsd: usd('What the new tasks would cost ($0.01 each)'),
    budget: z
      .object({
        limitUsd: usd("The caller's daily budget"),
        spentUsd: usd('What is held or spent of it today'),
        remainingUsd: usd('What is left of it today'),
        fits: z.boolean().meta({
          description:
            'Whether the batch would be accepted now: it holds $0.01 for every caption not reused at once ' +
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
    /** Its captions: one per item and prompt style. `counts`, `reused` and `costUsd` count captions too. */
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
    /** The first of promptStyles. */
    promptStyle: z.string(),
    /** Each item is captioned once per style, in this order; `[promptStyle]` for a batch posted with one. */
    promptStyles: z.array(z.string()),
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

/** One item of a batch: its caption in the batch's first style, and its captions in every style. */
export const batchItemResource = captionResource
  .extend({
    captions: z.array(captionResource).meta({
      description: "The item's captions, one per style in the order of the batch's promptStyles",
    }),
  })
  .meta({ id: 'BatchItem' })
export type BatchItemResource = z.infer<typeof batchItemResource>

export const batchCaptionList = pageOf(batchItemResource, {
  id: 'BatchCaptionPage',
  description:
    "A page of a batch's items, in item order: each its caption in the first style, with `captions` by style",
})

/** POST /batches/{id}/retry: how many failed items went back to queued. */
export const batchRetryResult = z.object({ retried: z.number().int() }).meta({ id: 'BatchRetry' })

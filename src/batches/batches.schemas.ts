import { z } from 'zod'
import { CALLBACK_STATES } from '../captions/captions.schemas.js'

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

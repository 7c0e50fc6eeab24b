import { type CaptionView, type ListPosition, VIEW_COLUMNS } from '../captions/caption-rows.repository.js'
import type { CaptionStatus } from '../captions/statuses.js'
import type { Queryable, Sql } from '../db/pool.js'
import type { Batch } from '../generated/prisma/client.js'

/** A batch row as the statements here return it: Prisma's `Batch` type, the schema's own. */
export type BatchRow = Batch

export const BATCH_COLUMNS = `id, caller, total, open_items AS "openItems", prompt_style AS "promptStyle",
  prompt_styles AS "promptStyles", caption_length AS "captionLength", prepend, append, callback_url AS "callbackUrl", metadata, reuse,
  created_at AS "createdAt", updated_at AS "updatedAt", completed_at AS "completedAt",
  callback_state AS "callbackState", callback_attempts AS "callbackAttempts",
  callback_next_at AS "callbackNextAt", lease_owner AS "leaseOwner", lease_expires_at AS "leaseExpiresAt"`

/** How a batch's items stand: how many per status, how many reused, how many GoAPI tasks they made. */
export interface BatchItemCounts {
  counts: Record<CaptionStatus, number>
  reused: number
  goapiTasks: number
}

export async function findBatch(sql: Sql, id: string): Promise<BatchRow | null> {
  const { rows } = await sql.query<BatchRow>({
    name: 'find-batch',
    text: `SELECT ${BATCH_COLUMNS} FROM batches WHERE id = $1`,
    values: [id],
  })
  return rows[0] ?? null
}

/** A batch as its caller may see it: another caller's batch does not exist for it. */
export async function findCallerBatch(sql: Sql, id: string, caller: string): Promise<BatchRow | null> {
  const { rows } = await sql.query<BatchRow>({
    name: 'find-caller-batch',
    text: `SELECT ${BATCH_COLUMNS} FROM batches WHERE id = $1 AND caller = $2`,
    values: [id, caller],
  })
  return rows[0] ?? null
}

export async function countBatchItems(
  sql: Sql,
  batchIds: readonly string[],
): Promise<Map<string, BatchItemCounts>> {
  const { rows } = await sql.query<{
    batchId: string
    status: CaptionStatus
    count: number
    reused: number
    goapiTasks: number
  }>({
    name: 'count-batch-items',
    text: `SELECT batch_id AS "batchId", status, count(*)::int AS count,
        count(reused_from)::int AS reused, sum(goapi_tasks)::int AS "goapiTasks"
      FROM captions WHERE batch_id = ANY($1::uuid[]) GROUP BY batch_id, status`,
    values: [batchIds],
  })
  const byBatch = new Map<string, BatchItemCounts>()
  for (const id of batchIds) {
    byBatch.set(id, {
      counts: { queued: 0, pending: 0, processing: 0, completed: 0, failed: 0, canceled: 0 },
      reused: 0,
      goapiTasks: 0,
    })
  }
  for (const row of rows) {
    const entry = byBatch.get(row.batchId) as BatchItemCounts
    entry.counts[row.status] = row.count
    entry.reused += row.reused
    entry.goapiTasks += row.goapiTasks
  }
  return byBatch
}

/** A caller's batches, newest first; `after` is the last row of the previous page. */
export async function listBatches(
  sql: Sql,
  options: { caller: string; limit: number; after: ListPosition | undefined },
): Promise<BatchRow[]> {
  const { after } = options
  const { rows } = await sql.query<BatchRow>({
    name: 'list-batches',
    text: `SELECT ${BATCH_COLUMNS} FROM batches
      WHERE caller = $1 AND ($2::timestamptz IS NULL OR (created_at, id) < ($2::timestamptz, $3::uuid))
      ORDER BY created_at DESC, id DESC
      LIMIT $4`,
    values: [options.caller, after?.createdAt ?? null, after?.id ?? null, options.limit],
  })
  return rows
}

/**
 * A page of a batch's items in item order, each item's captions in the order of `styles`: the items with
 * a caption of `status` (any status when none), after the item `afterIndex` of the previous page.
 */
export async function listBatchCaptions(
  sql: Sql,
  options: {
    batchId: string
    styles: readonly string[]
    status: CaptionStatus | undefined
    limit: number
    afterIndex: number | undefined
  },
): Promise<(CaptionView & { itemIndex: number })[]> {
  const { rows } = await sql.query<CaptionView & { itemIndex: number }>({
    name: 'list-batch-captions',
    text: `WITH page AS (
        SELECT DISTINCT item_index FROM captions
        WHERE batch_id = $1
          AND ($2::caption_status IS NULL OR status = $2::caption_status)
          AND ($3::int IS NULL OR item_index > $3::int)
        ORDER BY item_index
        LIMIT $4)
      SELECT ${VIEW_COLUMNS}, item_index AS "itemIndex" FROM captions
      WHERE batch_id = $1 AND item_index IN (SELECT item_index FROM page)
      ORDER BY item_index, array_position($5::text[], prompt_style), id`,
    values: [
      options.batchId,
      options.status ?? null,
      options.afterIndex ?? null,
      options.limit,
      options.styles,
    ],
  })
  return rows
}

export interface NewBatch {
  id: string
  caller: string
  total: number
  /** Items not finished when the batch is accepted (the reused ones are). */
  openItems: number
  /** Each item's styles, in order (the first is also `promptStyle`). */
  promptStyles: readonly string[]
  captionLength: string
  prepend: string
  append: string
  callbackUrl: string | undefined
  metadata: Record<string, unknown>
  reuse: boolean
  now: Date
}

/**
 * A batch with a callbackUrl has its callback `pending` from the start (`none` means no callbackUrl);
 * it is due once the batch completes, at once for a batch completed at creation (every item reused).
 */
export async function insertBatch(sql: Queryable, batch: NewBatch): Promise<BatchRow> {
  const done = batch.openItems === 0
  const { rows } = await sql.query<BatchRow>({
    name: 'insert-batch',
    text: `INSERT INTO batches (id, caller, total, open_items, prompt_style, prompt_styles, caption_length,
        prepend, append, callback_url, metadata, reuse, created_at, updated_at, completed_at, callback_state,
        callback_next_at)
      VALUES ($1, $2, $3, $4, ($5::text[])[1], $5, $6, $7, $8, $9, $10, $11, $12, $12, $13, $14::callback_state,
        CASE WHEN $14::text = 'pending' THEN $13::timestamptz END)
      RETURNING ${BATCH_COLUMNS}`,
    values: [
      batch.id,
      batch.caller,
      batch.total,
      batch.openItems,
      batch.promptStyles,
      batch.captionLength,
      batch.prepend,
      batch.append,
      batch.callbackUrl ?? null,
      JSON.stringify(batch.metadata),
      batch.reuse,
      batch.now,
      done ? batch.now : null,
      batch.callbackUrl ? 'pending' : 'none',
    ],
  })
  return rows[0] as BatchRow
}

import { randomUUID } from 'node:crypto'
import type { Sql } from '../../src/db/pool.js'

export interface SeededBatch {
  id: string
  itemIds: string[]
}

/**
 * A running batch written straight to the database: `items` captions already at GoAPI (`processing`,
 * not due for a poll for an hour), so that only what a test does to them moves them.
 */
export async function seedBatch(
  sql: Sql,
  options: { caller?: string; callbackUrl?: string; items: number; now: Date },
): Promise<SeededBatch> {
  const id = randomUUID()
  const caller = options.caller ?? ''
  const later = new Date(options.now.getTime() + 3_600_000)
  await sql.query(
    `INSERT INTO batches (id, caller, total, open_items, prompt_style, caption_length, prepend, append,
        callback_url, metadata, reuse, created_at, updated_at)
      VALUES ($1, $2, $3, $3, 'Descriptive', 'any', 'ohwx', '', $4, '{"dataset":"cats"}', true, $5, $5)`,
    [id, caller, options.items, options.callbackUrl ?? null, options.now],
  )
  const itemIds = Array.from({ length: options.items }, () => randomUUID())
  await sql.query(
    `INSERT INTO captions (id, caller, status, image_url, prompt_style, caption_length, created_at, updated_at,
        submit_state, submit_attempts, submitted_at, next_attempt_at, deadline_at, batch_id, item_index,
        name, file_name, reuse, goapi_tasks)
      SELECT item.id, $2, 'processing', 'https://images.example.com/cat-' || item.index || '.png',
        'Descriptive', 'any', $3, $3, 'accepted', 1, $3, $4, $4, $1, item.index - 1,
        'cat-' || item.index, 'cat-' || item.index || '.txt', true, 1
      FROM unnest($5::uuid[]) WITH ORDINALITY AS item(id, index)`,
    [id, caller, options.now, later, itemIds],
  )
  return { id, itemIds }
}

/** Finishes items as GoAPI's answer would, by SQL: the database's trigger then counts them off their batch. */
export async function finishItems(
  sql: Sql,
  itemIds: readonly string[],
  options: { at: Date; status?: 'completed' | 'failed' },
): Promise<void> {
  const failed = options.status === 'failed'
  await sql.query(
    `UPDATE captions SET status = $2::caption_status, updated_at = $3, completed_at = $3, next_attempt_at = NULL,
        caption = CASE WHEN $2 = 'completed' THEN 'A cat on a mat.' END,
        error_code = CASE WHEN $2 = 'failed' THEN 'goapi_task_failed' END,
        error_message = CASE WHEN $2 = 'failed' THEN 'the task failed' END
      WHERE id = ANY($1::uuid[])`,
    [itemIds, failed ? 'failed' : 'completed', options.at],
  )
}

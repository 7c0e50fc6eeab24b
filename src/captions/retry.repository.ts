import type { Queryable } from '../db/pool.js'
import { type CaptionRow, captionColumns } from './caption-rows.repository.js'
import type { CaptionStatus } from './statuses.js'

/** The caller's caption, locked for the retry's transaction (null: no such caption for this caller). */
export async function lockCallerCaption(
  tx: Queryable,
  id: string,
  caller: string,
): Promise<Pick<CaptionRow, 'id' | 'status' | 'batchId'> | null> {
  const { rows } = await tx.query<Pick<CaptionRow, 'id' | 'status' | 'batchId'>>({
    name: 'lock-caller-caption',
    text: `SELECT id, status, batch_id AS "batchId" FROM captions WHERE id = $1 AND caller = $2 FOR UPDATE`,
    values: [id, caller],
  })
  return rows[0] ?? null
}

/**
 * What a failed caption's row becomes when retried, for a statement whose $3 is 'queued', $4 the cents
 * to hold on top of the tasks already paid for, and $5 the time now.
 */
const REQUEUE = `status = $3::caption_status, retries = retries + 1,
  reserved_cents = goapi_tasks + $4,
  earlier_task_ids = CASE WHEN goapi_task_id IS NULL THEN earlier_task_ids
    ELSE array_append(earlier_task_ids, goapi_task_id) END,
  caption = NULL, error_code = NULL, error_message = NULL,
  goapi_task_id = NULL, goapi_task = NULL, completed_at = NULL, updated_at = $5,
  submit_state = 'not_sent', submit_attempts = 0, submitted_at = NULL, poll_attempts = 0,
  not_found_polls = 0, next_attempt_at = $5, deadline_at = NULL, lease_owner = NULL,
  lease_expires_at = NULL, waits_for = NULL, reused_from = NULL,
  callback_state = CASE WHEN callback_url IS NULL THEN 'none' ELSE 'pending' END::callback_state,
  callback_attempts = 0, callback_next_at = NULL`

/** A batch open again for items retried: not completed, its next completion a new event. */
const REOPEN_BATCH = `completed_at = NULL, updated_at = $5,
  callback_state = CASE WHEN callback_url IS NULL THEN 'none' ELSE 'pending' END::callback_state,
  callback_attempts = 0, callback_next_at = NULL`

/**
 * A failed caption made new again under the same id: queued for a GoAPI task slot as if just accepted,
 * its earlier task, error and callback progress cleared, `retries` counted up, and `holdCents` held on
 * top of the tasks already paid for (the charge trigger adds it to the spend of the caption's day). Its
 * earlier callback event is retired (kept, with its deliveries, for the log) so that the next final one
 * is a new event; its batch, if any, is open again until the item ends, and will send a new event then.
 */
export async function requeueFailedCaption(
  tx: Queryable,
  retry: {
    id: string
    batchId: string | null
    failed: CaptionStatus
    queued: CaptionStatus
    holdCents: number
    now: Date
  },
): Promise<CaptionRow | null> {
  const { rows } = await tx.query<CaptionRow>({
    name: 'requeue-failed-caption',
    text: `WITH retired AS (
        UPDATE callback_events SET retired_at = $5
        WHERE (caption_id = $1 OR batch_id = $6) AND retired_at IS NULL),
      reopened AS (
        UPDATE batches SET open_items = open_items + 1, ${REOPEN_BATCH} WHERE id = $6)
      UPDATE captions SET ${REQUEUE}
      WHERE id = $1 AND status = $2::caption_status
      RETURNING ${captionColumns()}`,
    values: [retry.id, retry.failed, retry.queued, retry.holdCents, retry.now, retry.batchId],
  })
  return rows[0] ?? null
}

/**
 * Every failed item of the batch `$1` retried at once, as `requeueFailedCaption` does one; returns how
 * many, and the id of one of them (they share the batch's day).
 */
export async function requeueFailedItems(
  tx: Queryable,
  retry: { batchId: string; failed: CaptionStatus; queued: CaptionStatus; holdCents: number; now: Date },
): Promise<{ retried: number; anyId: string | null }> {
  const { rows } = await tx.query<{ retried: number; anyId: string | null }>({
    name: 'requeue-failed-items',
    text: `WITH items AS (
        SELECT id FROM captions WHERE batch_id = $1 AND status = $2::caption_status FOR UPDATE),
      retired AS (
        UPDATE callback_events SET retired_at = $5
        WHERE (caption_id IN (SELECT id FROM items) OR batch_id = $1) AND retired_at IS NULL
          AND EXISTS (SELECT 1 FROM items)),
      requeued AS (
        UPDATE captions SET ${REQUEUE}
        WHERE id IN (SELECT id FROM items) AND status = $2::caption_status
        RETURNING id),
      reopened AS (
        UPDATE batches SET open_items = open_items + (SELECT count(*) FROM requeued), ${REOPEN_BATCH}
        WHERE id = $1 AND EXISTS (SELECT 1 FROM requeued))
      SELECT (SELECT count(*) FROM requeued)::int AS retried, (SELECT min(id::text) FROM requeued) AS "anyId"`,
    values: [retry.batchId, retry.failed, retry.queued, retry.holdCents, retry.now],
  })
  return rows[0] ?? { retried: 0, anyId: null }
}

/** The caller's batch, locked so that its retries do not interleave (false: no such batch). */
export async function lockCallerBatch(tx: Queryable, id: string, caller: string): Promise<boolean> {
  const { rowCount } = await tx.query({
    name: 'lock-caller-batch',
    text: 'SELECT 1 FROM batches WHERE id = $1 AND caller = $2 FOR UPDATE',
    values: [id, caller],
  })
  return rowCount === 1
}

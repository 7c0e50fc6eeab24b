import type { Queryable } from '../db/pool.js'
import { type CaptionView, VIEW_COLUMNS } from './caption-rows.repository.js'
import { waitsForSlot } from './slots.repository.js'
import type { CaptionStatus } from './statuses.js'

/*
 * Cancels captions GoAPI has not been sent: queued, and not sent or refused (exactly the captions waiting
 * for a task slot). One conditional statement: the slot hand-out (slots.repository.ts) and the send of a
 * leased caption mark a caption `in_flight` only while it is still queued, and this statement cancels one
 * only while it is not `in_flight`, so under the row lock exactly one of the two wins and a canceled
 * caption is never sent. Its end is a caption's end (the captions_finished trigger): its batch has one open
 * item less, captions of the same image waiting for it choose another, and its budget hold is given back.
 * A caption with a callbackUrl has its `caption.canceled` event due at once.
 */
const CANCEL_SET = `UPDATE captions SET status = $1::caption_status, updated_at = $2, completed_at = $2,
    next_attempt_at = NULL,
    callback_next_at = CASE WHEN callback_state = 'pending' THEN $2::timestamptz END`

const CANCEL_CAPTION = `${CANCEL_SET}
  WHERE id = $4 AND caller = $5 AND ${waitsForSlot('$3::caption_status')}
  RETURNING ${VIEW_COLUMNS}`

const CANCEL_BATCH_ITEMS = `${CANCEL_SET}
  WHERE batch_id = $4 AND ${waitsForSlot('$3::caption_status')}
  RETURNING ${VIEW_COLUMNS}`

const CANCELED: CaptionStatus = 'canceled'
const QUEUED: CaptionStatus = 'queued'

/** Cancels the caller's caption if GoAPI has not been sent it; the caption as written, else undefined. */
export async function cancelQueuedCaption(
  sql: Queryable,
  options: { id: string; caller: string; now: Date },
): Promise<CaptionView | undefined> {
  const { rows } = await sql.query<CaptionView>({
    name: 'cancel-queued-caption',
    text: CANCEL_CAPTION,
    values: [CANCELED, options.now, QUEUED, options.id, options.caller],
  })
  return rows[0]
}

/** Cancels every item of the batch GoAPI has not been sent; the items canceled, as written. */
export async function cancelQueuedBatchItems(
  sql: Queryable,
  options: { batchId: string; now: Date },
): Promise<CaptionView[]> {
  const { rows } = await sql.query<CaptionView>({
    name: 'cancel-queued-batch-items',
    text: CANCEL_BATCH_ITEMS,
    values: [CANCELED, options.now, QUEUED, options.batchId],
  })
  return rows
}

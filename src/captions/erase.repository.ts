import { inTransaction, type Sql } from '../db/pool.js'
import { type CaptionStatus, isTerminal } from './statuses.js'

/*
 * Erasing what a caller sent and what GoAPI returned. The database does the rest in the same statement:
 * callback events and their deliveries go with their caption or batch (foreign keys, on delete cascade),
 * the usage of the erased captions is kept in `erased_usage`, and an erased open caption gives back the
 * budget hold GoAPI cannot bill and lets its batch and the captions waiting for it go on (triggers of
 * the erase_and_retention migration).
 */

/** Erases the caller's caption; false when it has none by that id. */
export async function eraseCaption(sql: Sql, id: string, caller: string): Promise<boolean> {
  return inTransaction(sql, async (tx) => {
    const { rows } = await tx.query<{ batchId: string | null; status: CaptionStatus }>({
      name: 'erase-caption',
      text: 'DELETE FROM captions WHERE id = $1 AND caller = $2 RETURNING batch_id AS "batchId", status',
      values: [id, caller],
    })
    const gone = rows[0]
    if (!gone) return false
    await tx.query({
      name: 'erase-caption-idempotency-keys',
      text: 'DELETE FROM idempotency_keys WHERE caller = $1 AND caption_id = $2',
      values: [caller, id],
    })
    // A finished batch item leaves its batch one smaller; an open one was taken off by the trigger.
    if (gone.batchId !== null && isTerminal(gone.status)) {
      await tx.query({
        name: 'erase-caption-from-batch',
        text: 'UPDATE batches SET total = total - 1 WHERE id = $1',
        values: [gone.batchId],
      })
    }
    return true
  })
}

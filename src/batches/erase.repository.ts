import { inTransaction, type Sql } from '../db/pool.js'

/**
 * Erases the caller's batch and all its items (they, their callback events and deliveries go with it
 * by foreign key; the triggers of the erase_and_retention migration keep their usage and give back the
 * holds of items GoAPI never had); false when it has none by that id.
 */
export async function eraseBatch(sql: Sql, id: string, caller: string): Promise<boolean> {
  return inTransaction(sql, async (tx) => {
    const { rowCount } = await tx.query({
      name: 'erase-batch',
      text: 'DELETE FROM batches WHERE id = $1 AND caller = $2',
      values: [id, caller],
    })
    if (rowCount !== 1) return false
    await tx.query({
      name: 'erase-batch-idempotency-keys',
      text: 'DELETE FROM idempotency_keys WHERE caller = $1 AND batch_id = $2',
      values: [caller, id],
    })
    return true
  })
}

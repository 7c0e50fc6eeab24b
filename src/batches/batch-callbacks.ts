import { type CallbackDeps, deliverCallback } from '../captions/callbacks.js'
import { toBatchResource } from './batch-resource.js'
import { type BatchItemCounts, type BatchRow, countBatchItems, findBatch } from './batches.repository.js'

/**
 * A batch's one `batch.completed` event, due once every item has finished, delivered like a caption's
 * (see deliverCallback): its data is the batch as GET /batches/{id} shows it when the event is made.
 */
export async function deliverBatchCallback(
  deps: CallbackDeps,
  batchId: string,
  /** The batch as the claim that leased it returned it, to save reading it again. */
  claimed?: BatchRow,
): Promise<void> {
  const batch = claimed ?? (await findBatch(deps.sql, batchId))
  if (!batch) return // deleted meanwhile: no lease left to give back
  await deliverCallback(deps, {
    kind: 'batch',
    id: batch.id,
    callbackUrl: batch.callbackUrl,
    callbackState: batch.callbackState,
    callbackAttempts: batch.callbackAttempts,
    callbackNextAt: batch.callbackNextAt,
    finished: batch.completedAt !== null,
    log: deps.log.child({ batchId: batch.id, caller: batch.caller }),
    describe: async () => {
      const counts = await countBatchItems(deps.sql, [batch.id])
      return {
        type: 'batch.completed',
        data: toBatchResource(batch, counts.get(batch.id) as BatchItemCounts),
      }
    },
  })
}

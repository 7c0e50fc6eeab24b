import type { CallbackSubjectAdapter } from '../callbacks/subjects.js'
import { BATCH_CALLBACK_KIND } from './batch-callback-kind.js'
import { toBatchResource } from './batch-resource.js'
import { type BatchItemCounts, type BatchRow, countBatchItems, findBatch } from './batches.repository.js'

/**
 * A batch's one `batch.completed` event, due once every item has finished, delivered like a caption's:
 * its data is the batch as GET /batches/{id} shows it when the event is made.
 */
export const batchCallbacks: CallbackSubjectAdapter<BatchRow> = {
  kind: BATCH_CALLBACK_KIND,
  load: findBatch,
  toSubject: (deps, batch) => ({
    kind: BATCH_CALLBACK_KIND,
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
  }),
}

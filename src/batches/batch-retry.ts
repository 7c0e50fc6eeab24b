import { BatchNotFound } from '../api/error-catalog.js'
import { lockCallerBatch, requeueFailedItems } from '../captions/retry.repository.js'
import { inTransaction } from '../db/pool.js'
import type { ServiceDeps } from '../deps.js'
import { CENTS_PER_TASK } from '../spend/money.js'
import { refuseRequeueOverBudget } from '../spend/requeue-budget.js'

/**
 * POST /batches/{id}/retry: every failed item of the batch queued again, as POST /captions/{id}/retry
 * does one, all or nothing against the caller's budget. None failed: nothing changes, `{ retried: 0 }`.
 */
export async function retryBatch(
  deps: ServiceDeps,
  id: string,
  caller: string,
): Promise<{ retried: number }> {
  const budgetCents = deps.budgets.get(caller)
  const holdCents = budgetCents === undefined ? 0 : CENTS_PER_TASK
  const { retried } = await inTransaction(deps.sql, async (tx) => {
    if (!(await lockCallerBatch(tx, id, caller))) throw new BatchNotFound(id)
    const result = await requeueFailedItems(tx, {
      batchId: id,
      failed: 'failed',
      queued: 'queued',
      holdCents,
      now: deps.clock.now(),
    })
    if (result.anyId !== null) {
      const heldCents = holdCents * result.retried
      await refuseRequeueOverBudget(tx, { caller, budgetCents, captionId: result.anyId, heldCents })
    }
    return result
  })
  if (retried > 0) {
    deps.metrics.captionsCreated.inc(retried)
    deps.wake('queued')
  }
  return { retried }
}

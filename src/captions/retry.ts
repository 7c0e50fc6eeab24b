import { CaptionNotFailed, CaptionNotFound } from '../api/error-catalog.js'
import { inTransaction } from '../db/pool.js'
import type { ServiceDeps } from '../deps.js'
import { CENTS_PER_TASK } from '../spend/money.js'
import { refuseRequeueOverBudget } from '../spend/requeue-budget.js'
import type { CaptionResource } from './captions.schemas.js'
import { toCaptionResource } from './captions.service.js'
import { lockCallerCaption, requeueFailedCaption } from './retry.repository.js'

/**
 * POST /captions/{id}/retry: a failed caption, queued again under the same id for a new GoAPI task.
 * Its caller's budget is checked as for a new caption, in the same transaction: over it, nothing
 * changes. The cent is counted on the caption's own day, where GET /usage counts its tasks.
 */
export async function retryCaption(deps: ServiceDeps, id: string, caller: string): Promise<CaptionResource> {
  const budgetCents = deps.budgets.get(caller)
  const holdCents = budgetCents === undefined ? 0 : CENTS_PER_TASK
  const retried = await inTransaction(deps.sql, async (tx) => {
    const caption = await lockCallerCaption(tx, id, caller)
    if (!caption) throw new CaptionNotFound(id)
    if (caption.status !== 'failed') throw new CaptionNotFailed(id, caption.status)
    const row = await requeueFailedCaption(tx, {
      id,
      batchId: caption.batchId,
      failed: 'failed',
      queued: 'queued',
      holdCents,
      now: deps.clock.now(),
    })
    if (!row) throw new CaptionNotFailed(id, caption.status)
    await refuseRequeueOverBudget(tx, { caller, budgetCents, captionId: id, heldCents: holdCents })
    return row
  })
  deps.metrics.captionsCreated.inc()
  deps.wake('queued')
  return toCaptionResource(retried)
}

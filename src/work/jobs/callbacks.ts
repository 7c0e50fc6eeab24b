import { deliverBatchCallback } from '../../batches/batch-callbacks.js'
import type { CallbackDeps } from '../../captions/callbacks.js'
import { deliverCaptionCallback } from '../../captions/callbacks.js'
import type { Sql } from '../../db/pool.js'
import { type Job, job } from '../job.js'
import type { Claim } from '../work.repository.js'
import { claimDueBatchCallbacks, claimDueCallbacks } from '../work.repository.js'

/**
 * Subjects whose caller is still to be told at its callbackUrl: sent at once on a wake-up too, and cut
 * short when a stop runs out of time.
 */
function callbackJob<Row extends { id: string }>(
  name: string,
  subject: Job['subject'],
  claim: (sql: Sql, claim: Claim) => Promise<Row[]>,
  deliver: (deps: CallbackDeps, id: string, claimed: Row) => Promise<void>,
) {
  return job<Row>({
    name,
    claim: (deps, due) => claim(deps.sql, due),
    run: (deps, row) => deliver(deps, row.id, row),
    subject,
    idOf: (row) => row.id,
    alsoOn: 'wake-up',
    cutShortOnStop: true,
  })
}

/** Finished captions. */
export const captionCallbacks = callbackJob(
  'caption-callbacks',
  'caption',
  claimDueCallbacks,
  deliverCaptionCallback,
)
/** Completed batches. */
export const batchCallbacks = callbackJob(
  'batch-callbacks',
  'batch',
  claimDueBatchCallbacks,
  deliverBatchCallback,
)

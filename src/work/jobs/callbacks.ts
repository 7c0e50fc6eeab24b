import { batchCallbacks as batchSubjects } from '../../batches/batch-callbacks.js'
import { deliverCallbackOf } from '../../callbacks/deliver.js'
import { claimDueCallbacks } from '../../callbacks/due-callbacks.repository.js'
import type { CallbackSubjectAdapter } from '../../callbacks/subjects.js'
import { captionCallbacks as captionSubjects } from '../../captions/caption-callbacks.js'
import { type Job, job } from '../job.js'

/**
 * Subjects of one kind whose caller is still to be told at its callbackUrl: sent at once on a wake-up
 * too, and cut short when a stop runs out of time.
 */
function callbackJob<Row extends { id: string }>(
  name: string,
  subject: Job['subject'],
  adapter: CallbackSubjectAdapter<Row>,
) {
  return job<Row>({
    name,
    claim: (deps, due) => claimDueCallbacks(deps.sql, adapter, due),
    run: (deps, row) => deliverCallbackOf(deps, adapter, row.id, row),
    subject,
    idOf: (row) => row.id,
    alsoOn: 'wake-up',
    cutShortOnStop: true,
  })
}

/** Finished captions. */
export const captionCallbacks = callbackJob('caption-callbacks', 'caption', captionSubjects)
/** Completed batches. */
export const batchCallbacks = callbackJob('batch-callbacks', 'batch', batchSubjects)

import { deliverBatchCallback } from '../../batches/batch-callbacks.js'
import type { BatchRow } from '../../batches/batches.repository.js'
import { job } from '../job.js'
import { claimDueBatchCallbacks } from '../work.repository.js'

/** Completed batches whose caller is still to be told at its callbackUrl. */
export const batchCallbacks = job<BatchRow>({
  name: 'batch-callbacks',
  claim: (deps, claim) => claimDueBatchCallbacks(deps.sql, claim),
  run: (deps, batch) => deliverBatchCallback(deps, batch.id, batch),
  subject: 'batch',
  idOf: (batch) => batch.id,
  alsoOn: 'wake-up',
  cutShortOnStop: true,
})

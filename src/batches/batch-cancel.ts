import { cancelBatchItems } from '../captions/cancel.js'
import type { ServiceDeps } from '../deps.js'
import type { BatchResource } from './batches.schemas.js'
import { findOwnBatch, getBatch } from './batches.service.js'

/**
 * POST /batches/{id}/cancel: every item GoAPI has not been sent becomes `canceled`; the items GoAPI has
 * accepted finish (and are paid). The batch completes once those are final, as ever; canceling again
 * changes nothing and answers the batch as it stands.
 */
export async function cancelBatch(
  deps: Pick<ServiceDeps, 'sql' | 'clock' | 'metrics' | 'wake'>,
  id: string,
  caller: string,
): Promise<BatchResource> {
  const batch = await findOwnBatch(deps, id, caller)
  await cancelBatchItems(deps, batch.id)
  return getBatch(deps, batch.id, caller)
}

import { BatchNoCallbackUrl, BatchNotCompleted } from '../api/error-catalog.js'
import type { DeliveryResource } from '../captions/captions.schemas.js'
import { listSubjectDeliveries, resendSubjectCallback } from '../captions/deliveries.service.js'
import type { ServiceDeps } from '../deps.js'
import type { BatchResource } from './batches.schemas.js'
import { findOwnBatch, getBatch } from './batches.service.js'

/** GET /batches/{id}/deliveries: every attempt to deliver the batch's event, oldest first. */
export async function listBatchDeliveries(
  deps: Pick<ServiceDeps, 'sql'>,
  batchId: string,
  caller: string,
): Promise<DeliveryResource[]> {
  await findOwnBatch(deps, batchId, caller) // another caller's batch does not exist for this one
  return listSubjectDeliveries(deps, { kind: 'batch', id: batchId })
}

/**
 * POST /batches/{id}/deliveries/retry: the completed batch's event is sent again now, with the same
 * `webhook-id` and body, whatever came of it before. Background work sends it, woken at once; the
 * batch is answered as it stands once the request is recorded.
 */
export async function resendBatchCallback(
  deps: Pick<ServiceDeps, 'sql' | 'clock' | 'wake'>,
  batchId: string,
  caller: string,
): Promise<BatchResource> {
  return resendSubjectCallback(deps, { kind: 'batch', id: batchId }, caller, {
    read: () => getBatch(deps, batchId, caller),
    refusal: (batch) =>
      !batch.callbackUrl
        ? new BatchNoCallbackUrl(batchId)
        : batch.status !== 'completed'
          ? new BatchNotCompleted(batchId)
          : undefined,
  })
}

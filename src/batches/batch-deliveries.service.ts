import { BatchNoCallbackUrl, BatchNotCompleted } from '../api/error-catalog.js'
import {
  type CallbackOwnerView,
  listOwnDeliveries,
  resendOwnCallback,
} from '../callbacks/deliveries.service.js'
import type { ServiceDeps } from '../deps.js'
import { BATCH_CALLBACK_KIND } from './batch-callback-kind.js'
import type { BatchResource } from './batches.schemas.js'
import { findOwnBatch, getBatch } from './batches.service.js'

/** A batch as its caller sees it, for the routes of its deliveries. */
const batchOwnerView: CallbackOwnerView<BatchResource> = {
  kind: BATCH_CALLBACK_KIND,
  checkOwned: findOwnBatch,
  read: getBatch,
  resendRefusal: (batch, id) =>
    !batch.callbackUrl
      ? new BatchNoCallbackUrl(id)
      : batch.status !== 'completed'
        ? new BatchNotCompleted(id)
        : undefined,
}

/** GET /batches/{id}/deliveries: every attempt to deliver the batch's event, oldest first. */
export const listBatchDeliveries = (deps: Pick<ServiceDeps, 'sql'>, id: string, caller: string) =>
  listOwnDeliveries(deps, batchOwnerView, id, caller)

/** POST /batches/{id}/deliveries/retry: the completed batch's event is sent again now. */
export const resendBatchCallback = (
  deps: Pick<ServiceDeps, 'sql' | 'clock' | 'wake'>,
  id: string,
  caller: string,
) => resendOwnCallback(deps, batchOwnerView, id, caller)

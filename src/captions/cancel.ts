import { CaptionAlreadySubmitted, CaptionFinished } from '../api/error-catalog.js'
import type { ServiceDeps } from '../deps.js'
import { cancelQueuedBatchItems, cancelQueuedCaption } from './cancel.repository.js'
import type { CaptionView } from './caption-rows.repository.js'
import type { CaptionResource } from './captions.schemas.js'
import { getCaption, toCaptionResource } from './captions.service.js'
import { isTerminal } from './statuses.js'

type CancelDeps = Pick<ServiceDeps, 'sql' | 'clock' | 'metrics' | 'wake'>

/**
 * Counts the captions canceled as finished, and wakes background work as any caption's end does: their
 * callbacks and their batch's may be due, and a caption of the same image that waited may be sent now.
 */
function canceled(deps: CancelDeps, captions: readonly CaptionView[]): void {
  if (captions.length === 0) return
  deps.metrics.captionsFinished.inc({ status: 'canceled', code: '' }, captions.length)
  deps.wake()
}

/**
 * POST /captions/{id}/cancel: a caption GoAPI has not been sent becomes `canceled` at once; canceling a
 * canceled caption again answers the same. One GoAPI has accepted (or is being sent) finishes and is
 * paid, since GoAPI cannot cancel a task; a finished one has nothing to cancel.
 */
export async function cancelCaption(deps: CancelDeps, id: string, caller: string): Promise<CaptionResource> {
  const written = await cancelQueuedCaption(deps.sql, { id, caller, now: deps.clock.now() })
  if (written) {
    canceled(deps, [written])
    return toCaptionResource(written)
  }
  const caption = await getCaption(deps, id, caller)
  if (caption.status === 'canceled') return toCaptionResource(caption)
  if (isTerminal(caption.status)) throw new CaptionFinished(id, caption.status)
  throw new CaptionAlreadySubmitted(id)
}

/** Cancels every item of a batch GoAPI has not been sent (the batch's owner checked by the caller). */
export async function cancelBatchItems(deps: CancelDeps, batchId: string): Promise<number> {
  const written = await cancelQueuedBatchItems(deps.sql, { batchId, now: deps.clock.now() })
  canceled(deps, written)
  return written.length
}

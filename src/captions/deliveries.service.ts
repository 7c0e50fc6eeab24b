import type { ServiceDeps } from '../deps.js'
import { CaptionNotFinished, NoCallbackUrl } from '../errors.js'
import type { CaptionResource, DeliveryResource } from './captions.schemas.js'
import { getCaption, toCaptionResource } from './captions.service.js'
import { type DeliveryRow, listDeliveries, requestResend } from './deliveries.repository.js'
import { isTerminal } from './statuses.js'

/** GET /captions/{id}/deliveries: every attempt to deliver the caption's event, oldest first. */
export async function listCaptionDeliveries(
  deps: Pick<ServiceDeps, 'sql'>,
  captionId: string,
  caller: string,
): Promise<DeliveryResource[]> {
  await getCaption(deps, captionId, caller) // another caller's caption does not exist for this one
  return (await listDeliveries(deps.sql, captionId)).map(toDeliveryResource)
}

/**
 * POST /captions/{id}/deliveries/retry: the caption's event is sent again now, with the same
 * `webhook-id`, whatever came of it before (delivered, failed for good, gone). Background work sends
 * it, woken at once; the caption is answered as it stands once the request is recorded.
 */
export async function resendCallback(
  deps: Pick<ServiceDeps, 'sql' | 'clock' | 'wake'>,
  captionId: string,
  caller: string,
): Promise<CaptionResource> {
  const asked = await requestResend(deps.sql, { captionId, caller, now: deps.clock.now() })
  const caption = await getCaption(deps, captionId, caller)
  if (!asked) {
    if (!caption.callbackUrl) throw new NoCallbackUrl(captionId)
    if (!isTerminal(caption.status)) throw new CaptionNotFinished(captionId)
  }
  deps.wake()
  return toCaptionResource(caption)
}

function toDeliveryResource(row: DeliveryRow): DeliveryResource {
  return {
    id: row.id,
    eventId: row.eventId,
    eventType: row.eventType,
    attempt: row.attempt,
    attemptedAt: row.attemptedAt.toISOString(),
    url: row.url,
    statusCode: row.statusCode,
    error: row.error,
    durationMs: row.durationMs,
    outcome: row.outcome,
  }
}

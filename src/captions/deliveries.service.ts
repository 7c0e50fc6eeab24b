import { CaptionNotFinished, NoCallbackUrl } from '../api/error-catalog.js'
import type { ServiceDeps } from '../deps.js'
import type { CaptionResource, DeliveryResource } from './captions.schemas.js'
import { getCaption, toCaptionResource } from './captions.service.js'
import { type DeliveryRow, listDeliveries, requestResend, type SubjectRef } from './deliveries.repository.js'
import { shownDeliveryError } from './delivery-failures.js'
import { isTerminal } from './statuses.js'

/** GET /captions/{id}/deliveries: every attempt to deliver the caption's event, oldest first. */
export async function listCaptionDeliveries(
  deps: Pick<ServiceDeps, 'sql'>,
  captionId: string,
  caller: string,
): Promise<DeliveryResource[]> {
  await getCaption(deps, captionId, caller) // another caller's caption does not exist for this one
  return listSubjectDeliveries(deps, { kind: 'caption', id: captionId })
}

/** Every finished attempt to deliver a caption's or batch's event, as the API shows them. */
export async function listSubjectDeliveries(
  deps: Pick<ServiceDeps, 'sql'>,
  subject: SubjectRef,
): Promise<DeliveryResource[]> {
  return (await listDeliveries(deps.sql, subject)).map(toDeliveryResource)
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
  const caption = await resendSubjectCallback(deps, { kind: 'caption', id: captionId }, caller, {
    read: () => getCaption(deps, captionId, caller),
    refusal: (read) =>
      !read.callbackUrl
        ? new NoCallbackUrl(captionId)
        : !isTerminal(read.status)
          ? new CaptionNotFinished(captionId)
          : undefined,
  })
  return toCaptionResource(caption)
}

/**
 * A caller's request to send a caption's or batch's event again now, recorded, and background work
 * woken to send it. Answers with the subject as `read` finds it (which refuses another caller's);
 * when nothing was asked, throws what `refusal` makes of it (no callbackUrl, not finished).
 */
export async function resendSubjectCallback<Read>(
  deps: Pick<ServiceDeps, 'sql' | 'clock' | 'wake'>,
  subject: SubjectRef,
  caller: string,
  answer: { read: () => Promise<Read>; refusal: (read: Read) => Error | undefined },
): Promise<Read> {
  const asked = await requestResend(deps.sql, { subject, caller, now: deps.clock.now() })
  const read = await answer.read()
  const refused = asked ? undefined : answer.refusal(read)
  if (refused) throw refused
  deps.wake()
  return read
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
    error: shownDeliveryError(row.error),
    durationMs: row.durationMs,
    outcome: row.outcome,
  }
}

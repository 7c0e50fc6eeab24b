import type { ServiceDeps } from '../deps.js'
import type { DeliveryResource } from './callbacks.schemas.js'
import { type DeliveryRow, listDeliveries, requestResend } from './deliveries.repository.js'
import { shownDeliveryError } from './delivery-failures.js'
import type { SubjectRef } from './subjects.js'

/** Every finished attempt to deliver a caption's or batch's event, as the API shows them. */
export async function listSubjectDeliveries(
  deps: Pick<ServiceDeps, 'sql'>,
  subject: SubjectRef,
): Promise<DeliveryResource[]> {
  return (await listDeliveries(deps.sql, subject)).map(toDeliveryResource)
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

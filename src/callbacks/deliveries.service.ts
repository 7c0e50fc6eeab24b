import type { ServiceDeps } from '../deps.js'
import type { DeliveryResource } from './callbacks.schemas.js'
import { type DeliveryRow, listDeliveries, requestResend } from './deliveries.repository.js'
import { shownDeliveryError } from './delivery-failures.js'
import type { CallbackSubjectKind } from './subjects.js'

/**
 * What the caller-facing routes of a subject's deliveries need of its feature: the subject as GET shows
 * it to its caller (refusing another caller's as not found), a cheaper check of that alone, and why a
 * re-send is refused when nothing was asked (no callbackUrl, not finished).
 */
export interface CallbackOwnerView<Resource> {
  kind: CallbackSubjectKind
  checkOwned(deps: Pick<ServiceDeps, 'sql'>, id: string, caller: string): Promise<unknown>
  read(deps: Pick<ServiceDeps, 'sql'>, id: string, caller: string): Promise<Resource>
  resendRefusal(resource: Resource, id: string): Error | undefined
}

/** GET …/{id}/deliveries: every finished attempt to deliver the subject's event, oldest first. */
export async function listOwnDeliveries(
  deps: Pick<ServiceDeps, 'sql'>,
  view: CallbackOwnerView<unknown>,
  id: string,
  caller: string,
): Promise<DeliveryResource[]> {
  await view.checkOwned(deps, id, caller) // another caller's subject does not exist for this one
  return (await listDeliveries(deps.sql, { kind: view.kind, id })).map(toDeliveryResource)
}

/**
 * POST …/{id}/deliveries/retry: the finished subject's event is sent again now, with the same
 * `webhook-id` and body, whatever came of it before (delivered, failed for good, gone). The request is
 * recorded and background work woken to send it; the subject is answered as it stands then. When
 * nothing was asked, throws what `resendRefusal` makes of it.
 */
export async function resendOwnCallback<Resource>(
  deps: Pick<ServiceDeps, 'sql' | 'clock' | 'wake'>,
  view: CallbackOwnerView<Resource>,
  id: string,
  caller: string,
): Promise<Resource> {
  const subject = { kind: view.kind, id }
  const asked = await requestResend(deps.sql, { subject, caller, now: deps.clock.now() })
  const resource = await view.read(deps, id, caller)
  const refused = asked ? undefined : view.resendRefusal(resource, id)
  if (refused) throw refused
  deps.wake()
  return resource
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

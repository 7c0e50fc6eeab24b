import type { DeliveryResource } from '../callbacks/callbacks.schemas.js'
import { listSubjectDeliveries, resendSubjectCallback } from '../callbacks/deliveries.service.js'
import type { CallbackSubjectAdapter } from '../callbacks/subjects.js'
import type { ServiceDeps } from '../deps.js'
import { CaptionNotFinished, NoCallbackUrl } from '../errors.js'
import { CAPTION_CALLBACK_KIND } from './caption-callback-kind.js'
import { captionLog } from './caption-log.js'
import { type CaptionRow, findCaption } from './captions.repository.js'
import type { CaptionResource } from './captions.schemas.js'
import { getCaption, toCaptionResource } from './captions.service.js'
import { isTerminal } from './statuses.js'

/**
 * A caption's callback: its `caption.completed` or `caption.failed` event, due once it finishes, carries
 * the caption as GET /captions/{id} shows it when the event is made.
 */
export const captionCallbacks: CallbackSubjectAdapter<CaptionRow> = {
  kind: CAPTION_CALLBACK_KIND,
  load: findCaption,
  toSubject: (deps, caption) => ({
    kind: CAPTION_CALLBACK_KIND,
    id: caption.id,
    callbackUrl: caption.callbackUrl,
    callbackState: caption.callbackState,
    callbackAttempts: caption.callbackAttempts,
    callbackNextAt: caption.callbackNextAt,
    finished: isTerminal(caption.status),
    log: captionLog(deps.log, caption),
    describe: async () => ({
      type: caption.status === 'completed' ? 'caption.completed' : 'caption.failed',
      data: toCaptionResource(caption),
    }),
  }),
}

/** GET /captions/{id}/deliveries: every attempt to deliver the caption's event, oldest first. */
export async function listCaptionDeliveries(
  deps: Pick<ServiceDeps, 'sql'>,
  captionId: string,
  caller: string,
): Promise<DeliveryResource[]> {
  await getCaption(deps, captionId, caller) // another caller's caption does not exist for this one
  return listSubjectDeliveries(deps, { kind: CAPTION_CALLBACK_KIND, id: captionId })
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
  const caption = await resendSubjectCallback(deps, { kind: CAPTION_CALLBACK_KIND, id: captionId }, caller, {
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

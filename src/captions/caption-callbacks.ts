import { CaptionNotFinished, NoCallbackUrl } from '../api/error-catalog.js'
import {
  type CallbackOwnerView,
  listOwnDeliveries,
  resendOwnCallback,
} from '../callbacks/deliveries.service.js'
import type { CallbackSubjectAdapter } from '../callbacks/subjects.js'
import type { ServiceDeps } from '../deps.js'
import { CAPTION_CALLBACK_KIND } from './caption-callback-kind.js'
import { captionLog } from './caption-log.js'
import { type CaptionRow, findCaption } from './caption-rows.repository.js'
import type { CaptionEventType, CaptionResource } from './captions.schemas.js'
import { getCaption, toCaptionResource } from './captions.service.js'
import { type CaptionStatus, isTerminal } from './statuses.js'

/** The event a caption's final status makes. */
const EVENT_TYPE: Partial<Record<CaptionStatus, CaptionEventType>> = {
  completed: 'caption.completed',
  failed: 'caption.failed',
  canceled: 'caption.canceled',
}

/**
 * A caption's callback: its `caption.completed`, `caption.failed` or `caption.canceled` event, due once it
 * finishes, carries the caption as GET /captions/{id} shows it when the event is made.
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
    traceParent: caption.traceParent,
    describe: async () => ({
      type: EVENT_TYPE[caption.status] ?? 'caption.failed',
      data: toCaptionResource(caption),
    }),
  }),
}

/** A caption as its caller sees it, for the routes of its deliveries. */
const captionOwnerView: CallbackOwnerView<CaptionResource> = {
  kind: CAPTION_CALLBACK_KIND,
  checkOwned: getCaption,
  read: async (deps, id, caller) => toCaptionResource(await getCaption(deps, id, caller)),
  resendRefusal: (caption, id) =>
    !caption.callbackUrl
      ? new NoCallbackUrl(id)
      : !isTerminal(caption.status)
        ? new CaptionNotFinished(id)
        : undefined,
}

/** GET /captions/{id}/deliveries: every attempt to deliver the caption's event, oldest first. */
export const listCaptionDeliveries = (deps: Pick<ServiceDeps, 'sql'>, id: string, caller: string) =>
  listOwnDeliveries(deps, captionOwnerView, id, caller)

/** POST /captions/{id}/deliveries/retry: the finished caption's event is sent again now. */
export const resendCallback = (
  deps: Pick<ServiceDeps, 'sql' | 'clock' | 'wake'>,
  id: string,
  caller: string,
) => resendOwnCallback(deps, captionOwnerView, id, caller)

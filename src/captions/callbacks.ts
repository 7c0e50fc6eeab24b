import { type Dispatcher, request } from 'undici'
import type { ServiceDeps } from '../deps.js'
import { addMs, backoffDelay, CALLBACK_RETRY } from '../lib/backoff.js'
import { findCaption, finishLeasedStep } from './captions.repository.js'
import { toCaptionResource } from './captions.service.js'

export const CALLBACK_MAX_ATTEMPTS = 8

/**
 * Tells the caller at its `callbackUrl` that a caption finished: a POST of
 * `{ type: "caption.completed" | "caption.failed", caption }`, retried with backoff until a 2xx answer
 * or `CALLBACK_MAX_ATTEMPTS` tries. The caption itself stays readable with GET whatever happens here.
 */
export async function deliverCallback(
  deps: ServiceDeps & { callbackDispatcher: Dispatcher },
  captionId: string,
): Promise<void> {
  const { db, sql, workerId: owner } = deps
  const caption = await findCaption(sql, captionId)
  if (!caption?.callbackUrl || caption.callbackState !== 'pending') {
    await finishLeasedStep(db, captionId, owner)
    return
  }
  const log = deps.log.child({ captionId })
  const attempt = caption.callbackAttempts + 1
  const body = JSON.stringify({ type: `caption.${caption.status}`, caption: toCaptionResource(caption) })
  let failure: string | undefined
  try {
    const response = await request(caption.callbackUrl, {
      method: 'POST',
      dispatcher: deps.callbackDispatcher,
      headers: {
        'content-type': 'application/json',
        'user-agent': 'caption-service',
        'x-caption-id': caption.id,
      },
      body,
    })
    await response.body.dump()
    if (response.statusCode < 200 || response.statusCode >= 300) failure = `HTTP ${response.statusCode}`
  } catch (error) {
    failure = (error as { code?: string }).code ?? String(error)
  }
  if (failure === undefined) {
    log.info({ attempt }, 'callback delivered')
    await finishLeasedStep(db, captionId, owner, { callbackState: 'delivered', callbackAttempts: attempt })
    return
  }
  const givingUp = attempt >= CALLBACK_MAX_ATTEMPTS
  log.warn({ attempt, failure, givingUp }, 'callback not delivered')
  await finishLeasedStep(db, captionId, owner, {
    callbackAttempts: attempt,
    ...(givingUp
      ? { callbackState: 'failed' }
      : { callbackNextAt: addMs(deps.clock.now(), backoffDelay(attempt, CALLBACK_RETRY, deps.random)) }),
  })
}

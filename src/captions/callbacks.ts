import { type Dispatcher, request } from 'undici'
import type { ServiceDeps } from '../deps.js'
import { addMs, backoffDelay, CALLBACK_RETRY } from '../lib/backoff.js'
import { captionLog } from './caption-log.js'
import { findCaption, finishLeasedStep, updateWhileLeased } from './captions.repository.js'
import { toCaptionResource } from './captions.service.js'

export const CALLBACK_MAX_ATTEMPTS = 8

/**
 * Tells the caller at its `callbackUrl` that a caption finished: a POST of
 * `{ type: "caption.completed" | "caption.failed", caption }`, retried with backoff until a 2xx answer
 * or `CALLBACK_MAX_ATTEMPTS` tries. The caption itself stays readable with GET whatever happens here.
 * `signal` cuts a request short (the service is stopping); the attempt still counts.
 */
export async function deliverCallback(
  deps: ServiceDeps & { callbackDispatcher: Dispatcher; signal?: AbortSignal },
  captionId: string,
): Promise<void> {
  const { sql, workerId: owner } = deps
  const caption = await findCaption(sql, captionId)
  if (!caption?.callbackUrl || caption.callbackState !== 'pending') {
    await finishLeasedStep(sql, captionId, owner)
    return
  }
  if (deps.signal?.aborted) {
    // The service is stopping: not an attempt, since nothing is sent.
    await finishLeasedStep(sql, captionId, owner)
    return
  }
  const log = captionLog(deps.log, caption)
  if (caption.callbackAttempts >= CALLBACK_MAX_ATTEMPTS) {
    // The last attempt was cut short by a shutdown or a crash; it counted all the same.
    log.warn({ attempts: caption.callbackAttempts, givingUp: true }, 'callback not delivered')
    await finishLeasedStep(sql, captionId, owner, { callbackState: 'failed', callbackNextAt: null })
    return
  }
  const attempt = caption.callbackAttempts + 1
  const givingUp = attempt >= CALLBACK_MAX_ATTEMPTS
  // Counted, with its retry scheduled, before it is sent: an attempt cut short by a shutdown or a crash
  // may still have reached the caller, and is never mistaken for one not yet made.
  const counted = await updateWhileLeased(
    sql,
    captionId,
    owner,
    { callbackState: 'pending', callbackAttempts: caption.callbackAttempts },
    {
      callbackAttempts: attempt,
      callbackNextAt: addMs(deps.clock.now(), backoffDelay(attempt, CALLBACK_RETRY, deps.random)),
    },
  )
  if (!counted) return
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
      ...(deps.signal ? { signal: deps.signal } : {}),
    })
    await response.body.dump()
    if (response.statusCode < 200 || response.statusCode >= 300) failure = `HTTP ${response.statusCode}`
  } catch (error) {
    failure = deps.signal?.aborted
      ? 'cut short: the service is stopping'
      : ((error as { code?: string }).code ?? String(error))
  }
  if (failure === undefined) {
    log.info({ attempt }, 'callback delivered')
    await finishLeasedStep(sql, captionId, owner, { callbackState: 'delivered', callbackNextAt: null })
    return
  }
  log.warn({ attempt, failure, givingUp }, 'callback not delivered')
  await finishLeasedStep(
    sql,
    captionId,
    owner,
    givingUp ? { callbackState: 'failed', callbackNextAt: null } : {},
  )
}

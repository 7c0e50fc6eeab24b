import { performance } from 'node:perf_hooks'
import type { FastifyBaseLogger } from 'fastify'
import { type Dispatcher, request } from 'undici'
import type { ServiceDeps } from '../deps.js'
import { CALLBACK_ATTEMPT_TIMEOUT_MS, nextCallbackAttempt } from './callback-schedule.js'
import { captionLog } from './caption-log.js'
import { type CaptionRow, findCaption } from './captions.repository.js'
import { toCaptionResource } from './captions.service.js'
import {
  type AttemptResult,
  type CallbackEventRow,
  type CallbackEventType,
  type CallbackStateAfter,
  closeAbandonedAttempts,
  findCallbackEvent,
  finishAttempt,
  insertCallbackEvent,
  releaseCallback,
  type StartedAttempt,
  startAttempt,
  startFirstAttempt,
} from './deliveries.repository.js'
import { isTerminal } from './statuses.js'

const ABANDONED = 'no outcome recorded: the replica sending it stopped before the caller answered'
const CUT_SHORT = 'cut short: the service is stopping'

export type CallbackDeps = ServiceDeps & { callbackDispatcher: Dispatcher; signal?: AbortSignal }

/**
 * Tells the caller at its `callbackUrl` that a caption finished, holding the caption's lease: one
 * attempt at delivering the caption's event `{ type, timestamp, data }`, signed per Standard Webhooks.
 * The event is made at its first attempt and never changes after, so every attempt and every re-send
 * carries the same `webhook-id` and body. The attempt is recorded before it leaves and its outcome
 * after: a 2xx delivers it, 410 Gone stops it, anything else leaves it to the retry schedule until the
 * retry window has passed. `signal` cuts a request short (the service is stopping); it still counts.
 */
export async function deliverCallback(
  deps: CallbackDeps,
  captionId: string,
  /** The caption as the claim that leased it returned it, to save reading it again. */
  claimed?: CaptionRow,
): Promise<void> {
  const { sql, workerId: owner } = deps
  const caption = claimed ?? (await findCaption(sql, captionId))
  if (
    !caption?.callbackUrl ||
    caption.callbackState !== 'pending' ||
    !isTerminal(caption.status) ||
    deps.signal?.aborted // the service is stopping: not an attempt, since nothing is sent
  ) {
    await releaseCallback(sql, captionId, owner)
    return
  }
  const log = captionLog(deps.log, caption)
  const url = caption.callbackUrl
  if (caption.callbackAttempts === 0) {
    // A first attempt: its event is made and written with it, in the statement that counts it.
    const event = newEvent(deps, caption)
    const outcome = await attemptDelivery(
      deps,
      { caption, url, event, log, now: event.createdAt },
      'with the attempt',
    )
    if (outcome !== 'event_exists') return
    // A replica made the event and died before its first attempt: that event is the one to send.
  }
  const event = (await findCallbackEvent(sql, captionId)) ?? (await makeEvent(deps, caption))
  // An attempt counted earlier may have been left without an outcome by a replica that died.
  const abandoned = caption.callbackAttempts > 0 ? await closeAbandonedAttempts(sql, event.id, ABANDONED) : []
  if (abandoned.length > 0)
    log.warn({ attempts: abandoned }, 'callback attempt had no outcome; counted as failed')

  const now = deps.clock.now()
  const windowOver = now.getTime() >= event.createdAt.getTime() + deps.callbacks.retryWindowMs
  if (caption.callbackAttempts > 0 && event.resendRequestedAt === null && windowOver) {
    // Only an attempt cut short by a crash gets here: a failed one already ended the callback.
    log.warn({ attempts: caption.callbackAttempts, givingUp: true }, 'callback not delivered')
    await releaseCallback(sql, captionId, owner, { state: 'failed', seenNextAt: caption.callbackNextAt })
    return
  }
  await attemptDelivery(deps, { caption, url, event, log, now }, 'already written')
}

/**
 * One attempt: counted (with the event, for a first attempt) before the request leaves, sent, and
 * given its outcome. `event_exists` when a first attempt found the caption's event already written.
 */
async function attemptDelivery(
  deps: CallbackDeps,
  context: { caption: CaptionRow; url: string; event: CallbackEventRow; log: FastifyBaseLogger; now: Date },
  eventWrite: 'with the attempt' | 'already written',
): Promise<'done' | 'event_exists'> {
  const { caption, url, log, now } = context
  const attempt = caption.callbackAttempts + 1
  const windowMs = deps.callbacks.retryWindowMs
  const next = nextCallbackAttempt(attempt, { eventAt: context.event.createdAt, now, windowMs }, deps.random)
  const started: StartedAttempt = {
    id: deps.newId(),
    captionId: caption.id,
    eventId: context.event.id,
    attempt,
    attemptedAt: now,
    url,
    owner: deps.workerId,
    // Without a next attempt, due once the lease runs out: a crash mid-request is then still recorded.
    nextAt: next ?? now,
  }
  if (eventWrite === 'with the attempt') {
    const outcome = await startFirstAttempt(deps.sql, started, context.event)
    if (outcome !== 'started') return outcome === 'event_exists' ? 'event_exists' : 'done'
  } else if (!(await startAttempt(deps.sql, started))) return 'done'
  const result = await send(deps, context.event, url, now)
  deps.metrics.callbackDeliveries.inc({ outcome: result.outcome })
  deps.metrics.callbackDeliveryDurations.observe({ outcome: result.outcome }, result.durationMs / 1000)
  const state: CallbackStateAfter =
    result.outcome === 'failed' ? (next ? 'pending' : 'failed') : result.outcome
  const fields = {
    attempt,
    eventId: context.event.id,
    statusCode: result.statusCode,
    durationMs: result.durationMs,
  }
  if (result.outcome === 'delivered') log.info(fields, 'callback delivered')
  else log.warn({ ...fields, failure: result.error, givingUp: state !== 'pending' }, 'callback not delivered')
  await finishAttempt(deps.sql, started, result, state)
  return 'done'
}

/** The caption's event as GET shows the caption now, not written yet. */
function newEvent(deps: CallbackDeps, caption: CaptionRow): CallbackEventRow {
  const type: CallbackEventType = caption.status === 'completed' ? 'caption.completed' : 'caption.failed'
  const createdAt = deps.clock.now()
  const body = JSON.stringify({ type, timestamp: createdAt.toISOString(), data: toCaptionResource(caption) })
  return { id: deps.newId(), captionId: caption.id, type, body, createdAt, resendRequestedAt: null }
}

/** The caption's event, made from the caption as GET shows it now, and written. */
async function makeEvent(deps: CallbackDeps, caption: CaptionRow): Promise<CallbackEventRow> {
  const { resendRequestedAt: _, ...event } = newEvent(deps, caption)
  return insertCallbackEvent(deps.sql, event)
}

/** One POST of the event, signed now; never throws. */
async function send(
  deps: CallbackDeps,
  event: CallbackEventRow,
  url: string,
  at: Date,
): Promise<AttemptResult> {
  const started = performance.now()
  const duration = () => Math.round(performance.now() - started)
  const sign = deps.callbacks.sign
  if (!sign) {
    deps.log.error(
      { captionId: event.captionId },
      'CALLBACK_SIGNING_SECRET is not set: callbacks are not sent',
    )
    return {
      outcome: 'failed',
      statusCode: null,
      error: 'not sent: no CALLBACK_SIGNING_SECRET',
      durationMs: 0,
    }
  }
  const timeout = AbortSignal.timeout(CALLBACK_ATTEMPT_TIMEOUT_MS)
  try {
    const response = await request(url, {
      method: 'POST',
      dispatcher: deps.callbackDispatcher,
      headers: {
        'content-type': 'application/json',
        'user-agent': 'caption-service',
        'x-caption-id': event.captionId,
        ...sign(event.id, at, event.body),
      },
      body: event.body,
      signal: deps.signal ? AbortSignal.any([deps.signal, timeout]) : timeout,
    })
    await response.body.dump()
    const { statusCode } = response
    const outcome =
      statusCode >= 200 && statusCode < 300 ? 'delivered' : statusCode === 410 ? 'gone' : 'failed'
    return { outcome, statusCode, error: null, durationMs: duration() }
  } catch (error) {
    const reason = deps.signal?.aborted
      ? CUT_SHORT
      : timeout.aborted
        ? `timeout: no answer within ${CALLBACK_ATTEMPT_TIMEOUT_MS / 1000} s`
        : ((error as { code?: string }).code ?? String(error))
    return { outcome: 'failed', statusCode: null, error: reason, durationMs: duration() }
  }
}

import { performance } from 'node:perf_hooks'
import type { FastifyBaseLogger } from 'fastify'
import { type Dispatcher, request } from 'undici'
import type { ServiceDeps } from '../deps.js'
import { withStoredTrace } from '../tracing/spans.js'
import {
  type AttemptResult,
  type CallbackEventRow,
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
import { type DeliveryError, deliveryErrorOf, failureDetail } from './delivery-failures.js'
import { CALLBACK_ATTEMPT_TIMEOUT_MS, nextCallbackAttempt } from './schedule.js'
import type { CallbackSubject, CallbackSubjectAdapter, SubjectRef } from './subjects.js'
import { checkCallbackUrl } from './url-policy.js'

const ABANDONED: DeliveryError = 'interrupted'

export type CallbackDeps = ServiceDeps & { callbackDispatcher: Dispatcher; signal?: AbortSignal }

/**
 * The callback of one subject of the adapter's kind, holding its lease (see deliverCallback). `claimed`
 * is the row as the claim that leased it returned it, to save reading it again.
 */
export async function deliverCallbackOf<Row extends { id: string }>(
  deps: CallbackDeps,
  adapter: CallbackSubjectAdapter<Row>,
  id: string,
  claimed?: Row,
): Promise<void> {
  const row = claimed ?? (await adapter.load(deps.sql, id))
  if (!row) return // deleted meanwhile: no lease left to give back
  await deliverCallback(deps, adapter.toSubject(deps, row))
}

/**
 * Tells the caller at its `callbackUrl` that a caption or a batch finished, holding the subject's
 * lease: one attempt at delivering its event `{ type, timestamp, data }`, signed per Standard Webhooks.
 * The event is made at its first attempt and never changes after, so every attempt and every re-send
 * carries the same `webhook-id` and body. The attempt is recorded before it leaves and its outcome
 * after: a 2xx delivers it, 410 Gone stops it, anything else leaves it to the retry schedule until the
 * retry window has passed. `signal` cuts a request short (the service is stopping); it still counts.
 */
function deliverCallback(deps: CallbackDeps, subject: CallbackSubject): Promise<void> {
  // A span of the subject's trace; its request carries that trace's traceparent (undici's instrumentation).
  const attributes = { [`${subject.kind.name}.id`]: subject.id }
  return withStoredTrace('callback delivery', subject.traceParent, attributes, () => deliver(deps, subject))
}

async function deliver(deps: CallbackDeps, subject: CallbackSubject): Promise<void> {
  const { sql, workerId: owner } = deps
  if (
    !subject.callbackUrl ||
    subject.callbackState !== 'pending' ||
    !subject.finished ||
    deps.signal?.aborted // the service is stopping: not an attempt, since nothing is sent
  ) {
    await releaseCallback(sql, subject, owner)
    return
  }
  const { log } = subject
  const url = subject.callbackUrl
  if (subject.callbackAttempts === 0) {
    // A first attempt: its event is made and written with it, in the statement that counts it.
    const event = await newEvent(deps, subject)
    const outcome = await attemptDelivery(
      deps,
      { subject, url, event, log, now: event.createdAt },
      'with the attempt',
    )
    if (outcome !== 'event_exists') return
    // A replica made the event and died before its first attempt: that event is the one to send.
  }
  const event = (await findCallbackEvent(sql, subject)) ?? (await makeEvent(deps, subject))
  // An attempt counted earlier may have been left without an outcome by a replica that died.
  const abandoned = subject.callbackAttempts > 0 ? await closeAbandonedAttempts(sql, event.id, ABANDONED) : []
  if (abandoned.length > 0)
    log.warn({ attempts: abandoned }, 'callback attempt had no outcome; counted as failed')

  const now = deps.clock.now()
  const windowOver = now.getTime() >= event.createdAt.getTime() + deps.callbacks.retryWindowMs
  if (subject.callbackAttempts > 0 && event.resendRequestedAt === null && windowOver) {
    // Only an attempt cut short by a crash gets here: a failed one already ended the callback.
    log.warn({ attempts: subject.callbackAttempts, givingUp: true }, 'callback not delivered')
    await releaseCallback(sql, subject, owner, { state: 'failed', seenNextAt: subject.callbackNextAt })
    return
  }
  await attemptDelivery(deps, { subject, url, event, log, now }, 'already written')
}

/**
 * One attempt: counted (with the event, for a first attempt) before the request leaves, sent, and
 * given its outcome. `event_exists` when a first attempt found the subject's event already written.
 */
async function attemptDelivery(
  deps: CallbackDeps,
  context: {
    subject: CallbackSubject
    url: string
    event: CallbackEventRow
    log: FastifyBaseLogger
    now: Date
  },
  eventWrite: 'with the attempt' | 'already written',
): Promise<'done' | 'event_exists'> {
  const { subject, url, log, now } = context
  const attempt = subject.callbackAttempts + 1
  const windowMs = deps.callbacks.retryWindowMs
  const next = nextCallbackAttempt(attempt, { eventAt: context.event.createdAt, now, windowMs }, deps.random)
  const started: StartedAttempt = {
    id: deps.newId(),
    subject: { kind: subject.kind, id: subject.id },
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
  const refusal = policyRefusal(deps, url)
  const { detail, ...result } = refusal
    ? {
        outcome: 'refused' as const,
        statusCode: null,
        error: 'not_allowed' as const,
        durationMs: 0,
        detail: refusal,
      }
    : await send(deps, started.subject, context.event, url, now)
  deps.metrics.callbackDeliveries.inc({ outcome: result.outcome })
  deps.metrics.callbackDeliveryDurations.observe({ outcome: result.outcome }, result.durationMs / 1000)
  const state: CallbackStateAfter =
    result.outcome === 'failed'
      ? next
        ? 'pending'
        : 'failed'
      : result.outcome === 'refused'
        ? 'failed'
        : result.outcome
  const fields = {
    attempt,
    eventId: context.event.id,
    statusCode: result.statusCode,
    durationMs: result.durationMs,
  }
  if (result.outcome === 'delivered') log.info(fields, 'callback delivered')
  else if (result.outcome === 'refused')
    log.warn(
      { ...fields, reason: detail, givingUp: true },
      'callback refused: CALLBACK_ALLOWED_HOSTS no longer allows its URL',
    )
  else
    log.warn(
      { ...fields, failure: result.error, detail, givingUp: state !== 'pending' },
      'callback not delivered',
    )
  await finishAttempt(deps.sql, started, result, state)
  return 'done'
}

/** The subject's event as GET shows the subject now, not written yet. */
async function newEvent(deps: CallbackDeps, subject: CallbackSubject): Promise<CallbackEventRow> {
  const { type, data } = await subject.describe()
  const createdAt = deps.clock.now()
  const body = JSON.stringify({ type, timestamp: createdAt.toISOString(), data })
  return { id: deps.newId(), subjectId: subject.id, type, body, createdAt, resendRequestedAt: null }
}

/** The subject's event, made from the subject as GET shows it now, and written. */
async function makeEvent(deps: CallbackDeps, subject: CallbackSubject): Promise<CallbackEventRow> {
  const { resendRequestedAt: _, ...event } = await newEvent(deps, subject)
  return insertCallbackEvent(deps.sql, subject.kind, event)
}

/** Why the allowlist as it stands now refuses `url`; undefined when it allows it. */
function policyRefusal(deps: CallbackDeps, url: string): string | undefined {
  try {
    checkCallbackUrl(url, deps.urlPolicy)
    return undefined
  } catch (error) {
    return (error as Error).message
  }
}

/** One POST of the event, signed now; never throws. `detail` is for the service's log only. */
async function send(
  deps: CallbackDeps,
  subject: SubjectRef,
  event: CallbackEventRow,
  url: string,
  at: Date,
): Promise<AttemptResult & { detail?: unknown }> {
  const started = performance.now()
  const duration = () => Math.round(performance.now() - started)
  const sign = deps.callbacks.sign
  if (!sign) {
    deps.log.error(
      { [`${subject.kind.name}Id`]: subject.id },
      'CALLBACK_SIGNING_SECRET is not set: callbacks are not sent',
    )
    return {
      outcome: 'failed',
      statusCode: null,
      error: 'not_signed',
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
        [subject.kind.idHeader]: subject.id,
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
    const shown: DeliveryError = deps.signal?.aborted
      ? 'interrupted'
      : timeout.aborted
        ? 'timeout'
        : deliveryErrorOf(error)
    return {
      outcome: 'failed',
      statusCode: null,
      error: shown,
      durationMs: duration(),
      detail: failureDetail(error),
    }
  }
}

import { captionFailures } from '../api/caption-failures.js'
import type { ServiceDeps } from '../deps.js'
import type { GoapiTask } from '../goapi/task.js'
import { addMs, backoffDelay, MAX_RETRY_AFTER_MS, SUBMIT_RETRY } from '../lib/backoff.js'
import { withStoredTrace } from '../tracing/spans.js'
import { captionLog, writesAt } from './caption-log.js'
import { type CaptionRow, findCaption } from './caption-rows.repository.js'
import { recordCreateAnswer } from './create-answers.repository.js'
import { finishLeasedStep, updateWhileLeased } from './leased-steps.repository.js'
import { applyTaskUpdate, failUnfinishedCaption } from './task-updates.js'
import { webhookSecretFor } from './webhook-secret.js'

/**
 * Submission to GoAPI. A create costs money and GoAPI takes no idempotency key, so a caption is marked
 * `in_flight` before the call: if no clear answer comes back (timeout, reset, this process killed), the
 * task may exist, and the caption is only sent again after `resubmitAfterMs` without any sign of it (a
 * webhook carrying the caption's secret adopts the task meanwhile). Each such second send is counted in
 * `resubmissions`.
 */

/** Background work: a queued caption this replica has just leased. */
export async function submitCaption(deps: ServiceDeps, captionId: string): Promise<void> {
  const { sql, workerId: owner } = deps
  const caption = await findCaption(sql, captionId)
  if (caption === null || caption.status !== 'queued') {
    await finishLeasedStep(sql, captionId, owner)
    return
  }
  const now = deps.clock.now()
  if (caption.deadlineAt && now >= caption.deadlineAt) {
    await failUnfinishedCaption(deps, captionId, captionFailures.timeout(deps.work.deadlineMs), now)
    await finishLeasedStep(sql, captionId, owner)
    return
  }
  const mayAlreadyExist = caption.submitState === 'in_flight' || caption.submitState === 'ambiguous'
  if (mayAlreadyExist && caption.submittedAt) {
    const resubmitAt = addMs(caption.submittedAt, deps.work.resubmitAfterMs)
    if (now < resubmitAt) {
      await finishLeasedStep(sql, captionId, owner, { nextAttemptAt: resubmitAt })
      return
    }
    captionLog(deps.log, caption).warn(
      { submittedAt: caption.submittedAt },
      'no sign of the earlier GoAPI task: sending again',
    )
  }
  const marked = await updateWhileLeased(
    sql,
    captionId,
    owner,
    { status: 'queued' },
    {
      submitState: 'in_flight',
      submittedAt: now,
      submitAttempts: { increment: 1 },
      ...(mayAlreadyExist ? { resubmissions: { increment: 1 } } : {}),
    },
  )
  // Not marked: the lease ran out, or a webhook adopted the task meanwhile.
  if (marked)
    await sendToGoapi(deps, { ...caption, submitAttempts: caption.submitAttempts + 1, submittedAt: now })
}

/**
 * Background work: a caption that has just been given a GoAPI task slot, marked as being sent under
 * this replica's lease. Sent now, unless its deadline passed while a refused create waited to be
 * retried.
 */
export async function sendWithSlot(deps: ServiceDeps, caption: CaptionRow): Promise<void> {
  const now = deps.clock.now()
  if (caption.deadlineAt && now >= caption.deadlineAt) {
    await failUnfinishedCaption(deps, caption.id, captionFailures.timeout(deps.work.deadlineMs), now)
    await finishLeasedStep(deps.sql, caption.id, deps.workerId, { submitState: 'refused' })
    return
  }
  await sendToGoapi(deps, caption)
}

/**
 * One create call for a caption marked `in_flight` under this replica's lease, and what its outcome
 * means for the caption. The lease is given back in the same statement that records the outcome.
 * Returns the caption as that statement wrote it, when the answer moved it forward.
 */
export function sendToGoapi(deps: ServiceDeps, caption: CaptionRow): Promise<CaptionRow | undefined> {
  // A span of the caption's trace, whichever replica sends it and however long after it was created.
  return withStoredTrace('caption GoAPI create', caption.traceParent, { 'caption.id': caption.id }, () =>
    send(deps, caption),
  )
}

async function send(deps: ServiceDeps, caption: CaptionRow): Promise<CaptionRow | undefined> {
  const { sql, workerId: owner } = deps
  // Made when a line is written: a caption created as it should be writes none at level warn.
  const log = () => captionLog(deps.log, caption)
  const outcome = await deps.goapi.createTask({
    imageUrl: caption.imageUrl,
    promptStyle: caption.promptStyle,
    captionLength: caption.captionLength,
    webhookEndpoint: deps.webhook.endpoint,
    webhookSecret: webhookSecretFor(caption.id, deps.webhook.keys),
  })
  const now = deps.clock.now()
  switch (outcome.kind) {
    case 'created': {
      const dropped = !hasWebhookEndpoint(outcome.task)
      if (dropped || writesAt(deps.log, 'info')) {
        const taskLog = captionLog(log(), { id: caption.id, goapiTaskId: outcome.task.task_id })
        taskLog.info('GoAPI task created')
        if (dropped) taskLog.warn('GoAPI dropped the webhook endpoint; polling will follow the task')
      }
      const moved = await applyTaskUpdate(deps, caption.id, outcome.task, { acceptsSubmission: true })
      if (moved.outcome === 'applied') return moved.caption
      // A webhook got there first: the caption has moved already, only the bookkeeping is left.
      await recordCreateAnswer(sql, caption.id, owner, { kind: 'created' })
      return undefined
    }
    case 'rejected':
      log().warn({ httpStatus: outcome.httpStatus, reason: outcome.message }, 'GoAPI refused the task')
      await failUnfinishedCaption(
        deps,
        caption.id,
        captionFailures.goapiRejected(outcome.httpStatus, outcome.message),
        now,
      )
      await finishLeasedStep(sql, caption.id, owner, { submitState: 'refused' })
      return undefined
    case 'retryable': {
      const delay = Math.max(
        backoffDelay(caption.submitAttempts, SUBMIT_RETRY, deps.random),
        Math.min(outcome.retryAfterMs ?? 0, MAX_RETRY_AFTER_MS),
      )
      log().warn({ reason: outcome.reason, retryInMs: delay }, 'GoAPI did not take the task; retrying later')
      const retryAt = addMs(now, delay)
      // The deadline is checked on time even when GoAPI asks for a longer wait.
      const nextAttemptAt = caption.deadlineAt && caption.deadlineAt < retryAt ? caption.deadlineAt : retryAt
      await finishLeasedStep(sql, caption.id, owner, { submitState: 'refused', nextAttemptAt })
      return undefined
    }
    case 'ambiguous':
      log().warn(
        { reason: outcome.reason, resubmitAfterMs: deps.work.resubmitAfterMs },
        'GoAPI may have taken the task; waiting for a sign of it before sending again',
      )
      // Counted as paid: GoAPI may well have made the task.
      await recordCreateAnswer(sql, caption.id, owner, {
        kind: 'ambiguous',
        resendAt: addMs(caption.submittedAt ?? now, deps.work.resubmitAfterMs),
      })
      return undefined
  }
}

function hasWebhookEndpoint(task: GoapiTask): boolean {
  const config = task.config as { webhook_config?: { endpoint?: unknown } } | undefined
  return typeof config?.webhook_config?.endpoint === 'string' && config.webhook_config.endpoint !== ''
}

import { failCaption, findCaption } from '../captions/captions.repository.js'
import { applyTaskUpdate } from '../captions/task-updates.js'
import type { ServiceDeps } from '../deps.js'
import type { GoapiTask } from '../goapi/task.js'
import { webhookSecretFor } from '../webhooks/webhook-secret.js'
import { addMs, backoffDelay, MAX_RETRY_AFTER_MS, SUBMIT_RETRY } from './backoff.js'
import { releaseCaption, updateLeasedCaption } from './work.repository.js'

/**
 * One create call for a queued caption this replica holds the lease of, and what its outcome means.
 * A create costs money and GoAPI has no idempotency key, so the caption is marked `in_flight` before
 * the call: if no clear answer comes back (timeout, reset, this process killed), the task may exist,
 * and the caption is only sent again after `resubmitAfterMs` without any sign of it (a webhook carrying
 * the caption's secret adopts the task meanwhile). Each such second send is counted in `resubmissions`.
 */
export async function submitCaption(deps: ServiceDeps, captionId: string): Promise<void> {
  const { db, workerId: owner } = deps
  const log = deps.log.child({ captionId })
  const caption = await findCaption(db, captionId)
  if (!caption || caption.status !== 'queued') {
    await releaseCaption(db, captionId, owner)
    return
  }
  const now = deps.clock.now()
  if (caption.deadlineAt && now >= caption.deadlineAt) {
    await failCaption(db, captionId, timeoutError(deps), now)
    await releaseCaption(db, captionId, owner)
    return
  }
  const mayAlreadyExist = caption.submitState === 'in_flight' || caption.submitState === 'ambiguous'
  if (mayAlreadyExist && caption.submittedAt) {
    const resubmitAt = addMs(caption.submittedAt, deps.work.resubmitAfterMs)
    if (now < resubmitAt) {
      await releaseCaption(db, captionId, owner, { nextAttemptAt: resubmitAt })
      return
    }
    log.warn(
      { submittedAt: caption.submittedAt },
      'no sign of the earlier GoAPI task: sending the caption again',
    )
  }

  const marked = await updateLeasedCaption(
    db,
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
  if (!marked) return // the lease ran out or a webhook adopted the task meanwhile

  const outcome = await deps.goapi.createTask({
    imageUrl: caption.imageUrl,
    promptStyle: caption.promptStyle,
    captionLength: caption.captionLength,
    webhookEndpoint: deps.webhook.endpoint,
    webhookSecret: webhookSecretFor(caption.id, deps.webhook.keys),
  })
  const after = deps.clock.now()
  switch (outcome.kind) {
    case 'created': {
      log.info({ goapiTaskId: outcome.task.task_id }, 'GoAPI task created')
      if (!hasWebhookEndpoint(outcome.task)) {
        log.warn(
          { goapiTaskId: outcome.task.task_id },
          'GoAPI dropped the webhook endpoint; polling will follow the task',
        )
      }
      await db.caption.updateMany({ where: { id: captionId }, data: { submitState: 'accepted' } })
      await applyTaskUpdate(deps, captionId, outcome.task)
      await releaseCaption(db, captionId, owner)
      return
    }
    case 'rejected':
      log.warn({ httpStatus: outcome.httpStatus, reason: outcome.message }, 'GoAPI refused the task')
      await failCaption(
        db,
        captionId,
        {
          code: 'goapi_rejected',
          message: `GoAPI refused the task (HTTP ${outcome.httpStatus}): ${outcome.message}`,
        },
        after,
      )
      await releaseCaption(db, captionId, owner, { submitState: 'refused' })
      return
    case 'retryable': {
      const delay = Math.max(
        backoffDelay(caption.submitAttempts + 1, SUBMIT_RETRY, deps.random),
        Math.min(outcome.retryAfterMs ?? 0, MAX_RETRY_AFTER_MS),
      )
      log.warn({ reason: outcome.reason, retryInMs: delay }, 'GoAPI did not take the task; retrying later')
      await releaseCaption(db, captionId, owner, {
        submitState: 'refused',
        nextAttemptAt: addMs(after, delay),
      })
      return
    }
    case 'ambiguous':
      log.warn(
        { reason: outcome.reason, resubmitAfterMs: deps.work.resubmitAfterMs },
        'GoAPI may have taken the task; waiting for a sign of it before sending again',
      )
      await releaseCaption(db, captionId, owner, {
        submitState: 'ambiguous',
        nextAttemptAt: addMs(now, deps.work.resubmitAfterMs),
      })
      return
  }
}

export function timeoutError(deps: Pick<ServiceDeps, 'work'>) {
  return {
    code: 'timeout',
    message: `GoAPI gave no final answer within ${Math.round(deps.work.deadlineMs / 1000)} seconds`,
  }
}

function hasWebhookEndpoint(task: GoapiTask): boolean {
  const config = task.config as { webhook_config?: { endpoint?: unknown } } | undefined
  return typeof config?.webhook_config?.endpoint === 'string' && config.webhook_config.endpoint !== ''
}

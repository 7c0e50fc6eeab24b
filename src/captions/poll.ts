import { captionFailures } from '../api/caption-failures.js'
import type { ServiceDeps } from '../deps.js'
import { addMs, backoffDelay } from '../lib/backoff.js'
import { withCaptionTrace } from '../tracing/spans.js'
import { captionLog } from './caption-log.js'
import { findCaption } from './caption-rows.repository.js'
import { finishLeasedStep } from './leased-steps.repository.js'
import { TERMINAL_STATUSES } from './statuses.js'
import { applyTaskUpdate, failUnfinishedCaption } from './task-updates.js'

/**
 * Webhooks are a fast path, not a promise: a caption GoAPI has been quiet about is asked about with
 * get-task, then again with a growing wait, and failed with code `timeout` once its deadline passes.
 * GoAPI gave us the task id, so not_found means it purged or lost the task: one is forgiven (its
 * storage may lag just after create), the next in a row fails the caption rather than wait an hour.
 */
export function pollCaption(deps: ServiceDeps, captionId: string): Promise<void> {
  return withCaptionTrace(deps.sql, captionId, 'caption poll', () => poll(deps, captionId))
}

async function poll(deps: ServiceDeps, captionId: string): Promise<void> {
  const { sql, workerId: owner } = deps
  const caption = await findCaption(sql, captionId)
  if (!caption || TERMINAL_STATUSES.includes(caption.status) || !caption.goapiTaskId) {
    await finishLeasedStep(sql, captionId, owner)
    return
  }
  const log = captionLog(deps.log, caption)
  const outcome = await deps.goapi.getTask(caption.goapiTaskId)
  if (outcome.kind === 'found') {
    await applyTaskUpdate(deps, captionId, outcome.task)
  } else if (outcome.kind === 'not_found' && caption.notFoundPolls >= 1) {
    log.warn('GoAPI no longer knows the task; the caption fails')
    await failUnfinishedCaption(
      deps,
      captionId,
      captionFailures.goapiTaskNotFound(caption.goapiTaskId),
      deps.clock.now(),
    )
    await finishLeasedStep(sql, captionId, owner, { notFoundPolls: { increment: 1 } })
    return
  } else if (outcome.kind === 'not_found') {
    log.warn('GoAPI does not know the task; asking once more')
  } else {
    log.warn({ outcome }, 'GoAPI could not tell how the task stands')
  }

  const now = deps.clock.now()
  const current = await findCaption(sql, captionId)
  if (!current || TERMINAL_STATUSES.includes(current.status)) {
    await finishLeasedStep(sql, captionId, owner)
    return
  }
  if (current.deadlineAt && now >= current.deadlineAt) {
    log.warn('caption deadline passed without a final answer from GoAPI')
    await failUnfinishedCaption(deps, captionId, captionFailures.timeout(deps.work.deadlineMs), now)
    await finishLeasedStep(sql, captionId, owner)
    return
  }
  const policy = { baseMs: deps.work.pollIntervalMs, factor: 1.5, maxMs: deps.work.pollMaxIntervalMs }
  const next = addMs(now, backoffDelay(current.pollAttempts + 1, policy, deps.random))
  // The deadline is checked on time even when the next regular ask would come later.
  const nextAttemptAt = current.deadlineAt && current.deadlineAt < next ? current.deadlineAt : next
  // Only answers about the task count: an unreachable GoAPI neither breaks nor extends a run of not_found.
  const notFoundPolls =
    outcome.kind === 'found' ? 0 : outcome.kind === 'not_found' ? { increment: 1 } : undefined
  await finishLeasedStep(sql, captionId, owner, {
    pollAttempts: { increment: 1 },
    nextAttemptAt,
    notFoundPolls,
  })
}

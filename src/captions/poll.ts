import type { ServiceDeps } from '../deps.js'
import { captionFailures } from '../errors.js'
import { addMs, backoffDelay } from '../lib/backoff.js'
import { failCaption, findCaption, finishLeasedStep } from './captions.repository.js'
import { TERMINAL_STATUSES } from './statuses.js'
import { applyTaskUpdate } from './task-updates.js'

/**
 * Webhooks are a fast path, not a promise: a caption GoAPI has been quiet about is asked about with
 * get-task, then again with a growing wait, and failed with code `timeout` once its deadline passes.
 */
export async function pollCaption(deps: ServiceDeps, captionId: string): Promise<void> {
  const { db, workerId: owner } = deps
  const log = deps.log.child({ captionId })
  const caption = await findCaption(db, captionId)
  if (!caption || TERMINAL_STATUSES.includes(caption.status) || !caption.goapiTaskId) {
    await finishLeasedStep(db, captionId, owner)
    return
  }
  const outcome = await deps.goapi.getTask(caption.goapiTaskId)
  if (outcome.kind === 'found') {
    await applyTaskUpdate(deps, captionId, outcome.task)
  } else {
    log.warn({ goapiTaskId: caption.goapiTaskId, outcome }, 'GoAPI could not tell how the task stands')
  }

  const now = deps.clock.now()
  const current = await findCaption(db, captionId)
  if (!current || TERMINAL_STATUSES.includes(current.status)) {
    await finishLeasedStep(db, captionId, owner)
    return
  }
  if (current.deadlineAt && now >= current.deadlineAt) {
    log.warn(
      { goapiTaskId: caption.goapiTaskId },
      'caption deadline passed without a final answer from GoAPI',
    )
    await failCaption(db, captionId, captionFailures.timeout(deps.work.deadlineMs), now)
    await finishLeasedStep(db, captionId, owner)
    return
  }
  const policy = { baseMs: deps.work.pollIntervalMs, factor: 1.5, maxMs: deps.work.pollMaxIntervalMs }
  const next = addMs(now, backoffDelay(current.pollAttempts + 1, policy, deps.random))
  // The deadline is checked on time even when the next regular ask would come later.
  const nextAttemptAt = current.deadlineAt && current.deadlineAt < next ? current.deadlineAt : next
  await finishLeasedStep(db, captionId, owner, { pollAttempts: { increment: 1 }, nextAttemptAt })
}

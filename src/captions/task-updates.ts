import { captionFailures } from '../api/caption-failures.js'
import type { ServiceDeps } from '../deps.js'
import { type GoapiTask, mapGoapiStatus, redactSecrets, taskErrorMessage } from '../goapi/task.js'
import { advanceQueueOf, type TaskUpdate } from './caption-advance.repository.js'
import { captionLog, writesAt } from './caption-log.js'
import type { CaptionRow } from './caption-rows.repository.js'
import { failCaption } from './leased-steps.repository.js'
import { type CaptionStatus, isTerminal } from './statuses.js'

/** Whether the caption moved, and when it did, the caption as written. */
export type TaskUpdateResult = { outcome: 'applied'; caption: CaptionRow } | { outcome: 'unchanged' }

/**
 * Applies what GoAPI says about a task (create answer, webhook or poll alike, so a caption finished by
 * polling looks exactly like one finished by webhook) to its caption. Only a step forward writes;
 * duplicates, stale and unknown statuses change nothing.
 */
export async function applyTaskUpdate(
  deps: Pick<ServiceDeps, 'sql' | 'log' | 'clock' | 'work' | 'wake' | 'metrics'>,
  captionId: string,
  task: GoapiTask,
  options: { acceptsSubmission?: boolean } = {},
): Promise<TaskUpdateResult> {
  // GoAPI's phases are the caption's statuses from `pending` on.
  const status: CaptionStatus | undefined = mapGoapiStatus(task.status)
  if (status === undefined) {
    captionLog(deps.log, { id: captionId, goapiTaskId: task.task_id }).info(
      { goapiStatus: task.status },
      'GoAPI status not acted on',
    )
    return { outcome: 'unchanged' }
  }
  const now = deps.clock.now()
  const update = taskUpdate(task, status, now, new Date(now.getTime() + deps.work.pollAfterMs))
  const caption = await advanceQueueOf(deps.sql).advance({ captionId, update, ...options })
  if (caption === undefined) return { outcome: 'unchanged' }
  if (writesAt(deps.log, 'info'))
    captionLog(deps.log, caption).info({ status: update.status }, 'caption moved forward')
  if (isTerminal(update.status)) {
    finished(deps, update.status, update.error?.code)
    // The captions of the same image waiting for it took its text in the same statement.
    if (update.status === 'completed' && caption.followers > 0)
      deps.metrics.captionsFinished.inc({ status: 'completed', code: '' }, caption.followers)
  }
  return { outcome: 'applied', caption }
}

/** Ends a caption that has not ended yet as failed (a timeout, a refusal): false when it had ended. */
export async function failUnfinishedCaption(
  deps: Pick<ServiceDeps, 'sql' | 'wake' | 'metrics'>,
  captionId: string,
  error: { code: string; message: string },
  now: Date,
): Promise<boolean> {
  const failed = await failCaption(deps.sql, captionId, error, now)
  if (failed) finished(deps, 'failed', error.code)
  return failed
}

/**
 * A caption reached a final status: it is counted, and since that makes the caller's callback due,
 * background work is woken to send it now.
 */
function finished(deps: Pick<ServiceDeps, 'wake' | 'metrics'>, status: CaptionStatus, code = ''): void {
  deps.metrics.captionsFinished.inc({ status, code })
  deps.wake()
}

function taskUpdate(task: GoapiTask, status: CaptionStatus, now: Date, nextAttemptAt: Date): TaskUpdate {
  const base = {
    goapiTaskId: task.task_id,
    goapiTask: redactSecrets(task) as TaskUpdate['goapiTask'],
    now,
    nextAttemptAt,
  }
  if (status === 'completed') {
    const text = task.output?.text
    return typeof text === 'string' && text.trim() !== ''
      ? { ...base, status, caption: text }
      : {
          ...base,
          status: 'failed',
          error: captionFailures.goapiEmptyOutput(),
        }
  }
  if (status === 'failed') {
    return { ...base, status, error: captionFailures.goapiTaskFailed(taskErrorMessage(task)) }
  }
  return { ...base, status }
}

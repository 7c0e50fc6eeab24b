import { InvalidWebhookPayload, WebhookUnauthorized } from '../api/error-catalog.js'
import { captionLog, writesAt } from '../captions/caption-log.js'
import { findTaskOwnership } from '../captions/caption-rows.repository.js'
import { applyTaskUpdate } from '../captions/task-updates.js'
import type { ServiceDeps } from '../deps.js'
import { goapiTaskSchema } from '../goapi/task.js'
import { withCaptionTrace } from '../tracing/spans.js'

export type WebhookOutcome = 'applied' | 'unchanged' | 'unknown_task'

/**
 * A GoAPI delivery already authenticated by its secret (`captionIdFromSecret`, before its body was read:
 * nothing is parsed or read from the database for a forged one), applied idempotently. The caller
 * answers 2xx only after this returns, that is after the commit.
 */
export function receiveWebhook(
  deps: ServiceDeps,
  delivery: { captionId: string; body: unknown },
): Promise<WebhookOutcome> {
  // A span of the caption's trace, linked to the webhook request's own.
  return withCaptionTrace(deps.sql, delivery.captionId, 'caption webhook', () => applyWebhook(deps, delivery))
}

async function applyWebhook(
  deps: ServiceDeps,
  delivery: { captionId: string; body: unknown },
): Promise<WebhookOutcome> {
  const { captionId } = delivery

  // GoAPI wraps the task as `{ timestamp, data }`; a bare task is accepted too.
  const body = delivery.body as { data?: unknown } | null
  const parsed = goapiTaskSchema.safeParse(
    body && typeof body === 'object' && 'data' in body ? body.data : body,
  )
  if (!parsed.success) {
    throw new InvalidWebhookPayload(
      parsed.error.issues.map((i) => `${i.path.join('.') || 'body'}: ${i.message}`).join('; '),
    )
  }
  const task = parsed.data

  const context = { goapiStatus: task.status }
  // One conditional statement authenticates the task against the caption and applies it; only when it
  // moved nothing is the caption read, to tell a duplicate from a task that is not this caption's.
  const update = await applyTaskUpdate(deps, captionId, task)
  let caller = update.outcome === 'applied' ? update.caption.caller : undefined
  if (update.outcome === 'unchanged') {
    const ownership = await findTaskOwnership(deps.sql, captionId, task.task_id)
    if (ownership.taskOwner !== null && ownership.taskOwner !== captionId) throw new WebhookUnauthorized()
    caller = ownership.caller ?? undefined
    const foreign = ownership.captionTaskId !== null && ownership.captionTaskId !== task.task_id
    if (!ownership.captionExists || foreign) {
      captionLog(deps.log, { id: captionId, goapiTaskId: task.task_id, caller }).warn(
        context,
        'webhook for a task no caption knows; acknowledged, nothing changed',
      )
      return 'unknown_task'
    }
  }
  if (writesAt(deps.log, 'info')) {
    captionLog(deps.log, { id: captionId, goapiTaskId: task.task_id, caller }).info(
      { ...context, outcome: update.outcome },
      'webhook received',
    )
  }
  return update.outcome
}

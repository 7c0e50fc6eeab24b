import type { FastifyBaseLogger } from 'fastify'
import type { Db } from '../db/prisma.js'
import { CaptionNotFound, InvalidCursor } from '../errors.js'
import type { GoapiClient } from '../goapi/client.js'
import {
  type CaptionStatus,
  type GoapiTask,
  mapGoapiStatus,
  redactSecrets,
  taskErrorMessage,
} from '../goapi/task.js'
import type { Clock } from '../lib/clock.js'
import { webhookSecretFor } from '../webhooks/webhook-secret.js'
import {
  advanceCaption,
  type CaptionRow,
  failCaption,
  findCaption,
  insertCaption,
  type ListPosition,
  listCaptions,
  type TaskUpdate,
} from './captions.repository.js'
import type { CaptionResource, CreateCaptionInput } from './captions.schemas.js'

export interface CaptionDeps {
  db: Db
  goapi: GoapiClient
  log: FastifyBaseLogger
  clock: Clock
  newId: () => string
  webhook: { endpoint: string; keys: readonly string[] }
}

/** Records the caption first (the row is its own outbox), then hands it to GoAPI. */
export async function createCaption(deps: CaptionDeps, input: CreateCaptionInput): Promise<CaptionRow> {
  const caption = await insertCaption(deps.db, {
    id: deps.newId(),
    imageUrl: input.imageUrl,
    promptStyle: input.promptStyle,
    captionLength: input.captionLength,
    callbackUrl: input.callbackUrl,
    metadata: input.metadata ?? {},
    now: deps.clock.now(),
  })
  await submitCaption(deps, caption)
  return (await findCaption(deps.db, caption.id)) ?? caption
}

/** One create call to GoAPI for a queued caption, and what its outcome means for the caption. */
export async function submitCaption(deps: CaptionDeps, caption: CaptionRow): Promise<void> {
  const log = deps.log.child({ captionId: caption.id })
  const outcome = await deps.goapi.createTask({
    imageUrl: caption.imageUrl,
    promptStyle: caption.promptStyle,
    captionLength: caption.captionLength,
    webhookEndpoint: deps.webhook.endpoint,
    webhookSecret: webhookSecretFor(caption.id, deps.webhook.keys),
  })
  switch (outcome.kind) {
    case 'created':
      log.info({ goapiTaskId: outcome.task.task_id }, 'GoAPI task created')
      if (!hasWebhookEndpoint(outcome.task)) {
        log.warn(
          { goapiTaskId: outcome.task.task_id },
          'GoAPI dropped the webhook endpoint; only polling will see this task',
        )
      }
      await applyTaskUpdate(deps, caption.id, outcome.task)
      return
    case 'rejected':
      log.warn({ httpStatus: outcome.httpStatus, reason: outcome.message }, 'GoAPI refused the task')
      await failCaption(
        deps.db,
        caption.id,
        {
          code: 'goapi_rejected',
          message: `GoAPI refused the task (HTTP ${outcome.httpStatus}): ${outcome.message}`,
        },
        deps.clock.now(),
      )
      return
    case 'retryable':
    case 'ambiguous':
      log.warn(
        { outcome: outcome.kind, reason: outcome.reason },
        'GoAPI did not take the task; it stays queued',
      )
      return
  }
}

function hasWebhookEndpoint(task: GoapiTask): boolean {
  const config = task.config as { webhook_config?: { endpoint?: unknown } } | undefined
  return typeof config?.webhook_config?.endpoint === 'string' && config.webhook_config.endpoint !== ''
}

export type TaskUpdateResult = 'applied' | 'unchanged'

/**
 * Applies what GoAPI says about a task (create answer, webhook or poll alike) to its caption. Only a step
 * forward writes; duplicates, stale and unknown statuses change nothing.
 */
export async function applyTaskUpdate(
  deps: CaptionDeps,
  captionId: string,
  task: GoapiTask,
): Promise<TaskUpdateResult> {
  const status = mapGoapiStatus(task.status)
  if (status === undefined || status === 'queued') {
    deps.log.info({ captionId, goapiStatus: task.status }, 'GoAPI status not acted on')
    return 'unchanged'
  }
  const applied = await advanceCaption(deps.db, captionId, taskUpdate(task, status, deps.clock.now()))
  if (applied) deps.log.info({ captionId, goapiTaskId: task.task_id, status }, 'caption moved forward')
  return applied ? 'applied' : 'unchanged'
}

function taskUpdate(task: GoapiTask, status: CaptionStatus, now: Date): TaskUpdate {
  const base = { goapiTaskId: task.task_id, goapiTask: redactSecrets(task) as TaskUpdate['goapiTask'], now }
  if (status === 'completed') {
    const text = task.output?.text
    return typeof text === 'string' && text.trim() !== ''
      ? { ...base, status, caption: text }
      : {
          ...base,
          status: 'failed',
          error: {
            code: 'goapi_empty_output',
            message: 'GoAPI reported the task completed but sent no caption text',
          },
        }
  }
  if (status === 'failed') {
    return { ...base, status, error: { code: 'goapi_task_failed', message: taskErrorMessage(task) } }
  }
  return { ...base, status }
}

export async function getCaption(deps: Pick<CaptionDeps, 'db'>, id: string): Promise<CaptionRow> {
  const caption = await findCaption(deps.db, id)
  if (!caption) throw new CaptionNotFound(id)
  return caption
}

export async function listCaptionPage(
  deps: Pick<CaptionDeps, 'db'>,
  query: { status?: CaptionStatus | undefined; limit: number; cursor?: string | undefined },
): Promise<{ items: CaptionRow[]; nextCursor: string | null }> {
  const after = query.cursor === undefined ? undefined : decodeCursor(query.cursor)
  // One row more than asked tells whether another page exists without a count.
  const rows = await listCaptions(deps.db, { status: query.status, limit: query.limit + 1, after })
  const items = rows.slice(0, query.limit)
  const last = items.at(-1)
  return { items, nextCursor: rows.length > query.limit && last ? encodeCursor(last) : null }
}

export function encodeCursor(position: ListPosition): string {
  return Buffer.from(JSON.stringify([position.createdAt.toISOString(), position.id])).toString('base64url')
}

const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/

export function decodeCursor(cursor: string): ListPosition {
  try {
    const [createdAt, id] = JSON.parse(Buffer.from(cursor, 'base64url').toString('utf8')) as unknown[]
    const date = typeof createdAt === 'string' ? new Date(createdAt) : undefined
    if (date && !Number.isNaN(date.getTime()) && typeof id === 'string' && UUID.test(id))
      return { createdAt: date, id }
  } catch {
    // falls through to the error below
  }
  throw new InvalidCursor()
}

export function toCaptionResource(row: CaptionRow): CaptionResource {
  return {
    id: row.id,
    status: row.status,
    imageUrl: row.imageUrl,
    promptStyle: row.promptStyle,
    captionLength: row.captionLength,
    caption: row.caption,
    error: row.errorCode ? { code: row.errorCode, message: row.errorMessage ?? '' } : null,
    goapiTaskId: row.goapiTaskId,
    metadata: (row.metadata ?? {}) as Record<string, unknown>,
    createdAt: row.createdAt.toISOString(),
    updatedAt: row.updatedAt.toISOString(),
    completedAt: row.completedAt?.toISOString() ?? null,
  }
}

import type { Sql } from '../db/pool.js'
import { batchWhileRunning } from '../lib/batch-while-running.js'
import { perPool } from '../lib/per-pool.js'
import { type CaptionRow, captionColumns, type JsonValue } from './caption-rows.repository.js'
import { CAPTION_STATUSES, type CaptionStatus, FINAL_RANK, RANK, RANKS_IN_ORDER } from './statuses.js'

export interface TaskUpdate {
  goapiTaskId: string
  status: CaptionStatus
  caption?: string
  error?: { code: string; message: string }
  goapiTask: JsonValue
  now: Date
  /** When to ask GoAPI about it if no news comes first (ignored for a final status). */
  nextAttemptAt: Date
}

export interface CaptionAdvance {
  captionId: string
  update: TaskUpdate
  /** The create call's answer: the submission is accepted and the submitting replica's lease ends. */
  acceptsSubmission?: boolean
}

/*
 * Whether the advance counts the GoAPI task of the caption's create call: the first news of a task for a
 * caption that knows none yet counts it, be it the create's answer or a webhook or poll adopting it while
 * the answer is still to come, unless the call already ended `ambiguous` (counted then). The answer that
 * comes after an adoption counts nothing (`recordCreateAnswer`), so each task is counted once.
 */
const COUNTS_THE_CALL_TASK = `c.goapi_task_id IS NULL AND (u.new_accepts OR c.submit_state <> 'ambiguous')`

/*
 * Moves captions forward in one conditional statement, so concurrent deliveries race safely: a row is
 * written only for a step forward from an earlier status (its rank: $13 holds the rank of each status of
 * $12, in order; $14 is a final status's), only for the caption's own task (or a caption that has not
 * learned its task id yet, which adopts it), and never when another caption already holds that task id.
 * A final status also makes the caller's callback due at once.
 */
const ADVANCE_CAPTIONS = `UPDATE captions c SET
    status = u.new_status::caption_status,
    goapi_task_id = u.new_task_id,
    goapi_task = u.new_task::jsonb,
    updated_at = u.new_now,
    caption = COALESCE(u.new_caption, c.caption),
    error_code = COALESCE(u.new_error_code, c.error_code),
    error_message = COALESCE(u.new_error_message, c.error_message),
    completed_at = CASE WHEN u.new_rank = $14::int THEN u.new_now ELSE c.completed_at END,
    next_attempt_at = CASE WHEN u.new_rank = $14::int THEN NULL ELSE u.new_next_attempt_at END,
    callback_next_at = CASE WHEN u.new_rank = $14::int AND c.callback_state = 'pending' THEN u.new_now
      ELSE c.callback_next_at END,
    submit_state = CASE WHEN u.new_accepts THEN 'accepted'::submit_state ELSE c.submit_state END,
    goapi_tasks = c.goapi_tasks + CASE WHEN ${COUNTS_THE_CALL_TASK} THEN 1 ELSE 0 END,
    lease_owner = CASE WHEN u.new_accepts THEN NULL ELSE c.lease_owner END,
    lease_expires_at = CASE WHEN u.new_accepts THEN NULL ELSE c.lease_expires_at END
  FROM unnest($1::uuid[], $2::text[], $3::int[], $4::text[], $5::text[], $6::text[], $7::text[],
      $8::text[], $9::timestamptz[], $10::timestamptz[], $11::bool[])
    AS u(new_id, new_status, new_rank, new_task_id, new_task, new_caption, new_error_code,
      new_error_message, new_now, new_next_attempt_at, new_accepts)
  WHERE c.id = u.new_id
    AND ($13::int[])[array_position($12::caption_status[], c.status)] < u.new_rank
    AND (c.goapi_task_id IS NULL OR c.goapi_task_id = u.new_task_id)
    -- A task of an earlier try of a retried caption: its late webhooks and polls change nothing.
    AND (u.new_task_id IS NULL OR u.new_task_id <> ALL(coalesce(c.earlier_task_ids, ARRAY[]::text[])))
    AND NOT EXISTS (SELECT 1 FROM captions o WHERE o.goapi_task_id = u.new_task_id AND o.id <> c.id)
  RETURNING ${captionColumns('c')},
    (SELECT count(*) FROM captions w WHERE w.waits_for = c.id AND w.status = $15::caption_status)::int
      AS "followers"`

/**
 * A caption as an advance wrote it, with the captions of the same image that were waiting for it
 * (`followers`): read before the statement's trigger ran, they are the ones it completed with this
 * caption's text when this caption completed.
 */
export type AdvancedCaption = CaptionRow & { followers: number }

/** Applies each advance that is a step forward; returns the captions that moved, as written. */
export async function advanceCaptions(
  sql: Sql,
  advances: readonly CaptionAdvance[],
): Promise<Map<string, AdvancedCaption>> {
  const column = <T>(pick: (advance: CaptionAdvance) => T) => advances.map(pick)
  const { rows } = await sql.query<AdvancedCaption>({
    name: 'advance-captions',
    text: ADVANCE_CAPTIONS,
    values: [
      column((a) => a.captionId),
      column((a) => a.update.status),
      column((a) => RANK[a.update.status]),
      column((a) => a.update.goapiTaskId),
      column((a) => JSON.stringify(a.update.goapiTask)),
      column((a) => a.update.caption ?? null),
      column((a) => a.update.error?.code ?? null),
      column((a) => a.update.error?.message ?? null),
      column((a) => a.update.now),
      column((a) => a.update.nextAttemptAt),
      column((a) => a.acceptsSubmission === true),
      CAPTION_STATUSES,
      RANKS_IN_ORDER,
      FINAL_RANK,
      'queued' satisfies CaptionStatus,
    ],
  })
  return new Map(rows.map((row) => [row.id, row]))
}

export interface AdvanceQueue {
  /** Resolves once the advance is committed: the caption as written when it moved, else undefined. */
  advance(advance: CaptionAdvance): Promise<AdvancedCaption | undefined>
}

const MAX_GROUP = 100

/**
 * Group commit: advances that arrive while a statement is running wait for it and then go together in
 * the next one, so under load many webhooks share one statement and one commit, and at rest each goes
 * alone at once. Each caller is answered only after its own statement committed. Two advances of one
 * caption never share a statement (the later waits for the next), and should a shared statement fail,
 * its advances are retried one by one so one bad delivery cannot fail the others.
 */
export function createAdvanceQueue(sql: Sql): AdvanceQueue {
  const advance = batchWhileRunning(
    async (advances: CaptionAdvance[]) => {
      const moved = await advanceCaptions(sql, advances)
      return advances.map((one) => moved.get(one.captionId))
    },
    { maxBatch: MAX_GROUP, apartBy: (one) => one.captionId, retryEachAlone: true },
  )
  return { advance }
}

/** The pool's advance queue (see createAdvanceQueue), made on first use: every advance on a pool shares it. */
export const advanceQueueOf: (sql: Sql) => AdvanceQueue = perPool(createAdvanceQueue)

import type { Db, Sql } from '../db/prisma.js'
import type { Caption, Prisma } from '../generated/prisma/client.js'
import { type CaptionStatus, OPEN_STATUSES, statusesBefore } from './statuses.js'

export type CaptionRow = Caption

export interface NewCaption {
  id: string
  caller: string
  imageUrl: string
  promptStyle: string
  captionLength: string
  callbackUrl: string | undefined
  metadata: Record<string, unknown>
  now: Date
  deadlineAt: Date
  /** The replica that submits it right away holds it, so no other replica sends it meanwhile. */
  lease: { owner: string; until: Date }
}

/**
 * A new caption, already leased by this replica and marked as being sent: should the replica die before
 * GoAPI answers, the caption is treated as maybe sent, never sent twice blindly.
 */

export function newCaptionData(caption: NewCaption): Prisma.CaptionCreateInput {
  return {
    id: caption.id,
    caller: caption.caller,
    status: 'queued',
    imageUrl: caption.imageUrl,
    promptStyle: caption.promptStyle,
    captionLength: caption.captionLength,
    callbackUrl: caption.callbackUrl ?? null,
    callbackState: caption.callbackUrl ? 'pending' : 'none',
    metadata: caption.metadata as Prisma.InputJsonObject,
    createdAt: caption.now,
    updatedAt: caption.now,
    deadlineAt: caption.deadlineAt,
    // Should the submitting replica die, background work takes the caption once the lease runs out.
    nextAttemptAt: caption.now,
    leaseOwner: caption.lease.owner,
    leaseExpiresAt: caption.lease.until,
    submitState: 'in_flight',
    submittedAt: caption.now,
    submitAttempts: 1,
  }
}

/*
 * The statements on the hot paths (create, read, a webhook's update) are plain SQL on the pool Prisma
 * shares: one round trip each, rows shaped exactly like Prisma's `Caption`.
 */
const COLUMNS = `id, caller, status, image_url AS "imageUrl", prompt_style AS "promptStyle",
  caption_length AS "captionLength", callback_url AS "callbackUrl", metadata, caption,
  error_code AS "errorCode", error_message AS "errorMessage", goapi_task_id AS "goapiTaskId",
  goapi_task AS "goapiTask", created_at AS "createdAt", updated_at AS "updatedAt",
  completed_at AS "completedAt", submit_state AS "submitState", submit_attempts AS "submitAttempts",
  resubmissions, submitted_at AS "submittedAt", poll_attempts AS "pollAttempts",
  not_found_polls AS "notFoundPolls", next_attempt_at AS "nextAttemptAt", deadline_at AS "deadlineAt",
  lease_owner AS "leaseOwner", lease_expires_at AS "leaseExpiresAt", callback_state AS "callbackState",
  callback_attempts AS "callbackAttempts", callback_next_at AS "callbackNextAt"`

const INSERT_CAPTION = `INSERT INTO captions (id, caller, status, image_url, prompt_style, caption_length,
    callback_url, callback_state, metadata, created_at, updated_at, deadline_at, next_attempt_at,
    lease_owner, lease_expires_at, submit_state, submitted_at, submit_attempts)
  VALUES ($1, $2, 'queued', $3, $4, $5, $6, $7, $8, $9, $9, $10, $9, $11, $12, 'in_flight', $9, 1)
  RETURNING ${COLUMNS}`

export async function insertCaption(sql: Sql, caption: NewCaption): Promise<CaptionRow> {
  const { rows } = await sql.query<CaptionRow>({
    name: 'insert-caption',
    text: INSERT_CAPTION,
    values: [
      caption.id,
      caption.caller,
      caption.imageUrl,
      caption.promptStyle,
      caption.captionLength,
      caption.callbackUrl ?? null,
      caption.callbackUrl ? 'pending' : 'none',
      JSON.stringify(caption.metadata),
      caption.now,
      caption.deadlineAt,
      caption.lease.owner,
      caption.lease.until,
    ],
  })
  return rows[0] as CaptionRow
}

export async function findCaption(sql: Sql, id: string): Promise<CaptionRow | null> {
  const { rows } = await sql.query<CaptionRow>({
    name: 'find-caption',
    text: `SELECT ${COLUMNS} FROM captions WHERE id = $1`,
    values: [id],
  })
  return rows[0] ?? null
}

/** A caption as its caller may see it: another caller's caption does not exist for it. */
export async function findCallerCaption(sql: Sql, id: string, caller: string): Promise<CaptionRow | null> {
  const { rows } = await sql.query<CaptionRow>({
    name: 'find-caller-caption',
    text: `SELECT ${COLUMNS} FROM captions WHERE id = $1 AND caller = $2`,
    values: [id, caller],
  })
  return rows[0] ?? null
}

export interface ListPosition {
  createdAt: Date
  id: string
}

/** Newest first; `after` is the last row of the previous page. */
export function listCaptions(
  db: Db,
  options: {
    caller: string
    status: CaptionStatus | undefined
    limit: number
    after: ListPosition | undefined
  },
): Promise<CaptionRow[]> {
  const { after } = options
  return db.caption.findMany({
    where: {
      caller: options.caller,
      ...(options.status ? { status: options.status } : {}),
      ...(after
        ? {
            OR: [
              { createdAt: { lt: after.createdAt } },
              { createdAt: after.createdAt, id: { lt: after.id } },
            ],
          }
        : {}),
    },
    orderBy: [{ createdAt: 'desc' }, { id: 'desc' }],
    take: options.limit,
  })
}

export interface TaskUpdate {
  goapiTaskId: string
  status: CaptionStatus
  caption?: string
  error?: { code: string; message: string }
  goapiTask: Prisma.InputJsonValue
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
 * Moves captions forward in one conditional statement, so concurrent deliveries race safely: a row is
 * written only for a step forward from an earlier status (the rank below), only for the caption's own
 * task (or a caption that has not learned its task id yet, which adopts it), and never when another
 * caption already holds that task id. A final status also makes the caller's callback due at once.
 */
const ADVANCE_CAPTIONS = `UPDATE captions c SET
    status = u.new_status::caption_status,
    goapi_task_id = u.new_task_id,
    goapi_task = u.new_task::jsonb,
    updated_at = u.new_now,
    caption = COALESCE(u.new_caption, c.caption),
    error_code = COALESCE(u.new_error_code, c.error_code),
    error_message = COALESCE(u.new_error_message, c.error_message),
    completed_at = CASE WHEN u.new_rank = 3 THEN u.new_now ELSE c.completed_at END,
    next_attempt_at = CASE WHEN u.new_rank = 3 THEN NULL ELSE u.new_next_attempt_at END,
    callback_next_at = CASE WHEN u.new_rank = 3 THEN u.new_now ELSE c.callback_next_at END,
    submit_state = CASE WHEN u.new_accepts THEN 'accepted'::submit_state ELSE c.submit_state END,
    lease_owner = CASE WHEN u.new_accepts THEN NULL ELSE c.lease_owner END,
    lease_expires_at = CASE WHEN u.new_accepts THEN NULL ELSE c.lease_expires_at END
  FROM unnest($1::uuid[], $2::text[], $3::int[], $4::text[], $5::text[], $6::text[], $7::text[],
      $8::text[], $9::timestamptz[], $10::timestamptz[], $11::bool[])
    AS u(new_id, new_status, new_rank, new_task_id, new_task, new_caption, new_error_code,
      new_error_message, new_now, new_next_attempt_at, new_accepts)
  WHERE c.id = u.new_id
    AND (CASE c.status WHEN 'queued' THEN 0 WHEN 'pending' THEN 1 WHEN 'processing' THEN 2 ELSE 3 END) < u.new_rank
    AND (c.goapi_task_id IS NULL OR c.goapi_task_id = u.new_task_id)
    AND NOT EXISTS (SELECT 1 FROM captions o WHERE o.goapi_task_id = u.new_task_id AND o.id <> c.id)
  RETURNING ${COLUMNS}`

const RANK: Record<CaptionStatus, number> = { queued: 0, pending: 1, processing: 2, completed: 3, failed: 3 }

/** Applies each advance that is a step forward; returns the captions that moved, as written. */
export async function advanceCaptions(
  sql: Sql,
  advances: readonly CaptionAdvance[],
): Promise<Map<string, CaptionRow>> {
  const column = <T>(pick: (advance: CaptionAdvance) => T) => advances.map(pick)
  const { rows } = await sql.query<CaptionRow>({
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
    ],
  })
  return new Map(rows.map((row) => [row.id, row]))
}

export interface AdvanceQueue {
  /** Resolves once the advance is committed: the caption as written when it moved, else undefined. */
  advance(advance: CaptionAdvance): Promise<CaptionRow | undefined>
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
  interface Waiting {
    advance: CaptionAdvance
    resolve: (moved: CaptionRow | undefined) => void
    reject: (error: unknown) => void
  }
  let waiting: Waiting[] = []
  let running = false

  async function run(group: Waiting[]): Promise<void> {
    try {
      const moved = await advanceCaptions(
        sql,
        group.map((entry) => entry.advance),
      )
      for (const entry of group) entry.resolve(moved.get(entry.advance.captionId))
    } catch (error) {
      if (group.length === 1) {
        group[0]?.reject(error)
        return
      }
      for (const entry of group) await run([entry])
    }
  }

  async function drain(): Promise<void> {
    running = true
    while (waiting.length > 0) {
      const group: Waiting[] = []
      const later: Waiting[] = []
      const ids = new Set<string>()
      for (const entry of waiting) {
        if (group.length < MAX_GROUP && !ids.has(entry.advance.captionId)) {
          ids.add(entry.advance.captionId)
          group.push(entry)
        } else later.push(entry)
      }
      waiting = later
      await run(group)
    }
    running = false
  }

  return {
    advance(advance) {
      return new Promise((resolve, reject) => {
        waiting.push({ advance, resolve, reject })
        if (!running) void drain()
      })
    },
  }
}

/** What a webhook that moved nothing met: the caption's own task id, and which caption holds the task. */
export async function findTaskOwnership(
  sql: Sql,
  captionId: string,
  goapiTaskId: string,
): Promise<{
  captionExists: boolean
  captionTaskId: string | null
  taskOwner: string | null
  caller: string | null
}> {
  const { rows } = await sql.query<{
    caption_task_id: string | null
    exists: boolean
    owner: string | null
    caller: string | null
  }>({
    name: 'find-task-ownership',
    text: `SELECT (SELECT goapi_task_id FROM captions WHERE id = $1) AS caption_task_id,
        EXISTS (SELECT 1 FROM captions WHERE id = $1) AS exists,
        (SELECT caller FROM captions WHERE id = $1) AS caller,
        (SELECT id FROM captions WHERE goapi_task_id = $2) AS owner`,
    values: [captionId, goapiTaskId],
  })
  const row = rows[0]
  return {
    captionExists: row?.exists ?? false,
    captionTaskId: row?.caption_task_id ?? null,
    taskOwner: row?.owner ?? null,
    caller: row?.caller ?? null,
  }
}

/** Ends a caption that has not ended yet as failed. */
export async function failCaption(
  db: Db,
  captionId: string,
  error: { code: string; message: string },
  now: Date,
): Promise<boolean> {
  const { count } = await db.caption.updateMany({
    where: { id: captionId, status: { in: statusesBefore('failed') } },
    data: {
      status: 'failed',
      errorCode: error.code,
      errorMessage: error.message,
      updatedAt: now,
      ...finished(now),
    },
  })
  return count === 1
}

/** A final status: nothing more to ask GoAPI, and the caller's callback (if any) is due now. */
function finished(now: Date) {
  return { completedAt: now, nextAttemptAt: null, callbackNextAt: now }
}

/** Only the status: what background work reads to pick a caption's next step. */
export function findCaptionStatus(db: Db, id: string): Promise<CaptionStatus | undefined> {
  return db.caption.findUnique({ where: { id }, select: { status: true } }).then((row) => row?.status)
}

/** How many captions are not finished yet, per status. */
export async function countOpenCaptionsByStatus(db: Db): Promise<Record<CaptionStatus, number>> {
  const rows = await db.caption.groupBy({
    by: ['status'],
    where: { status: { in: [...OPEN_STATUSES] } },
    _count: { _all: true },
  })
  const counts = { queued: 0, pending: 0, processing: 0, completed: 0, failed: 0 }
  for (const row of rows) counts[row.status] = row._count._all
  return counts
}

/**
 * Records the outcome of a step of background work and gives the caption's lease back, in one
 * statement, only while `owner` still holds the lease. A replica whose lease ran out (it stalled and
 * another took over) writes nothing: returns false.
 */
export async function finishLeasedStep(
  db: Db,
  captionId: string,
  owner: string,
  changes: Prisma.CaptionUpdateManyMutationInput = {},
): Promise<boolean> {
  const { count } = await db.caption.updateMany({
    where: { id: captionId, leaseOwner: owner },
    data: { ...changes, leaseOwner: null, leaseExpiresAt: null },
  })
  return count === 1
}

/** Writes in the middle of a step, keeping the lease; fenced on the lease like `finishLeasedStep`. */
export async function updateWhileLeased(
  db: Db,
  captionId: string,
  owner: string,
  where: Prisma.CaptionWhereInput,
  changes: Prisma.CaptionUpdateManyMutationInput,
): Promise<boolean> {
  const { count } = await db.caption.updateMany({
    where: { ...where, id: captionId, leaseOwner: owner },
    data: changes,
  })
  return count === 1
}

import { createHash } from 'node:crypto'
import type { Queryable, Sql } from '../db/pool.js'
import type { Caption } from '../generated/prisma/client.js'
import { type CaptionStatus, statusesBefore } from './statuses.js'

/** A caption row as the statements here return it: Prisma's `Caption` type, the schema's own. */
export type CaptionRow = Caption

/** Any JSON value, as stored in a jsonb column. */
export type JsonValue = string | number | boolean | null | JsonValue[] | { [key: string]: JsonValue }

/**
 * A caption waiting for a GoAPI task slot (slots.repository.ts): queued and not sent, or refused and
 * to be sent again. One waiting for a caption of the same image (`waits_for`) takes no slot.
 */
export const WAITS_FOR_SLOT = `status = 'queued' AND submit_state IN ('not_sent', 'refused')`

export const CAPTION_COLUMNS = `id, caller, status, image_url AS "imageUrl", prompt_style AS "promptStyle",
  caption_length AS "captionLength", callback_url AS "callbackUrl", metadata, caption,
  error_code AS "errorCode", error_message AS "errorMessage", goapi_task_id AS "goapiTaskId",
  goapi_task AS "goapiTask", created_at AS "createdAt", updated_at AS "updatedAt",
  completed_at AS "completedAt", submit_state AS "submitState", submit_attempts AS "submitAttempts",
  resubmissions, submitted_at AS "submittedAt", poll_attempts AS "pollAttempts",
  not_found_polls AS "notFoundPolls", next_attempt_at AS "nextAttemptAt", deadline_at AS "deadlineAt",
  lease_owner AS "leaseOwner", lease_expires_at AS "leaseExpiresAt", callback_state AS "callbackState",
  callback_attempts AS "callbackAttempts", callback_next_at AS "callbackNextAt", batch_id AS "batchId",
  item_index AS "itemIndex", name, file_name AS "fileName", reuse, reused_from AS "reusedFrom",
  waits_for AS "waitsFor", goapi_tasks AS "goapiTasks", reserved_cents AS "reservedCents",
  trace_parent AS "traceParent"`

/** What a caller is shown of a caption: its resource's columns, without GoAPI's stored task. */
export type CaptionView = Pick<
  CaptionRow,
  | 'id'
  | 'caller'
  | 'status'
  | 'imageUrl'
  | 'promptStyle'
  | 'captionLength'
  | 'callbackUrl'
  | 'metadata'
  | 'caption'
  | 'errorCode'
  | 'errorMessage'
  | 'goapiTaskId'
  | 'createdAt'
  | 'updatedAt'
  | 'completedAt'
  | 'callbackState'
  | 'callbackAttempts'
  | 'batchId'
  | 'name'
  | 'fileName'
  | 'reusedFrom'
  | 'goapiTasks'
>

// Reads for callers skip goapi_task: the whole stored task would be fetched and parsed to be dropped.
export const VIEW_COLUMNS = `id, caller, status, image_url AS "imageUrl", prompt_style AS "promptStyle",
  caption_length AS "captionLength", callback_url AS "callbackUrl", metadata, caption,
  error_code AS "errorCode", error_message AS "errorMessage", goapi_task_id AS "goapiTaskId",
  created_at AS "createdAt", updated_at AS "updatedAt", completed_at AS "completedAt",
  callback_state AS "callbackState", callback_attempts AS "callbackAttempts", batch_id AS "batchId", name,
  file_name AS "fileName", reused_from AS "reusedFrom", goapi_tasks AS "goapiTasks"`

/** How a new caption starts out. */
export type CaptionStart =
  /** Sent to GoAPI at once by this replica, which holds its lease meanwhile (its task slot is taken). */
  | { kind: 'send'; lease: { owner: string; until: Date }; deadlineAt: Date }
  /** Queued until background work gives it a free GoAPI task slot. */
  | { kind: 'wait' }
  /** Queued behind an earlier open caption of the same image, to take its text once it completes. */
  | { kind: 'follow'; leader: string }
  /** Completed at once with the text of a caption of the same image: no task, nothing paid. */
  | { kind: 'reuse'; from: { id: string; caption: string } }

export interface NewCaption {
  id: string
  caller: string
  imageUrl: string
  promptStyle: string
  captionLength: string
  callbackUrl: string | undefined
  metadata: Record<string, unknown>
  now: Date
  start: CaptionStart
  /** May stand in for, or take the text of, another caption of the same image. */
  reuse: boolean
  /** Cents held against the caller's daily budget. */
  reservedCents: number
  /** Made by the GoAPI simulator: its text is never reused. */
  simulated: boolean
  /** Its place in a batch. */
  item?: { batchId: string; index: number; name: string | undefined; fileName: string }
  /** The traceparent its later work continues (src/tracing). */
  traceParent?: string | null
}

/*
 * Every statement is plain SQL returning rows shaped exactly like Prisma's `Caption`. A caption sent at
 * once is inserted already leased by this replica and marked as being sent: should the replica die
 * before GoAPI answers, the caption is treated as maybe sent, never sent twice blindly.
 */
const INSERT_COLUMNS: readonly (readonly [
  column: string,
  type: string,
  value: (c: NewCaption) => unknown,
])[] = [
  ['id', 'uuid', (c) => c.id],
  ['caller', 'text', (c) => c.caller],
  ['status', 'caption_status', (c) => (c.start.kind === 'reuse' ? 'completed' : 'queued')],
  ['image_url', 'text', (c) => c.imageUrl],
  ['prompt_style', 'text', (c) => c.promptStyle],
  ['caption_length', 'text', (c) => c.captionLength],
  ['callback_url', 'text', (c) => c.callbackUrl ?? null],
  ['callback_state', 'callback_state', (c) => (c.callbackUrl ? 'pending' : 'none')],
  ['metadata', 'jsonb', (c) => JSON.stringify(c.metadata)],
  ['created_at', 'timestamptz', (c) => c.now],
  ['updated_at', 'timestamptz', (c) => c.now],
  ['deadline_at', 'timestamptz', (c) => (c.start.kind === 'send' ? c.start.deadlineAt : null)],
  [
    'next_attempt_at',
    'timestamptz',
    (c) => (c.start.kind === 'send' || c.start.kind === 'wait' ? c.now : null),
  ],
  ['lease_owner', 'text', (c) => (c.start.kind === 'send' ? c.start.lease.owner : null)],
  ['lease_expires_at', 'timestamptz', (c) => (c.start.kind === 'send' ? c.start.lease.until : null)],
  ['submit_state', 'submit_state', (c) => (c.start.kind === 'send' ? 'in_flight' : 'not_sent')],
  ['submitted_at', 'timestamptz', (c) => (c.start.kind === 'send' ? c.now : null)],
  ['submit_attempts', 'int', (c) => (c.start.kind === 'send' ? 1 : 0)],
  ['caption', 'text', (c) => (c.start.kind === 'reuse' ? c.start.from.caption : null)],
  ['completed_at', 'timestamptz', (c) => (c.start.kind === 'reuse' ? c.now : null)],
  ['callback_next_at', 'timestamptz', (c) => (c.start.kind === 'reuse' && c.callbackUrl ? c.now : null)],
  ['reuse', 'bool', (c) => c.reuse],
  ['reused_from', 'uuid', (c) => (c.start.kind === 'reuse' ? c.start.from.id : null)],
  ['waits_for', 'uuid', (c) => (c.start.kind === 'follow' ? c.start.leader : null)],
  ['reserved_cents', 'int', (c) => c.reservedCents],
  ['simulated', 'bool', (c) => c.simulated],
  ['batch_id', 'uuid', (c) => c.item?.batchId ?? null],
  ['item_index', 'int', (c) => c.item?.index ?? null],
  ['name', 'text', (c) => c.item?.name ?? null],
  ['file_name', 'text', (c) => c.item?.fileName ?? null],
  ['trace_parent', 'text', (c) => c.traceParent ?? null],
]

const INSERT_COLUMN_LIST = INSERT_COLUMNS.map(([column]) => column).join(', ')

const INSERT_CAPTION = `INSERT INTO captions (${INSERT_COLUMN_LIST})
  VALUES (${INSERT_COLUMNS.map(([, type], index) => `$${index + 1}::${type}`).join(', ')})
  RETURNING ${CAPTION_COLUMNS}`

// Many rows in one statement: one array per column (jsonb travels as text, arrays of it being awkward).
const INSERT_CAPTIONS = `INSERT INTO captions (${INSERT_COLUMN_LIST})
  SELECT ${INSERT_COLUMNS.map(([column, type]) => (type === 'jsonb' ? `${column}::jsonb` : column)).join(', ')}
  FROM unnest(${INSERT_COLUMNS.map(([, type], index) => `$${index + 1}::${type === 'jsonb' ? 'text' : type}[]`).join(', ')})
    AS u(${INSERT_COLUMN_LIST})`

export async function insertCaption(sql: Queryable, caption: NewCaption): Promise<CaptionRow> {
  const { rows } = await sql.query<CaptionRow>({
    name: 'insert-caption',
    text: INSERT_CAPTION,
    values: INSERT_COLUMNS.map(([, , value]) => value(caption)),
  })
  return rows[0] as CaptionRow
}

/** Inserts many captions in one statement (a batch's items). */
export async function insertCaptions(sql: Queryable, captions: readonly NewCaption[]): Promise<void> {
  await sql.query({
    name: 'insert-captions',
    text: INSERT_CAPTIONS,
    values: INSERT_COLUMNS.map(([, , value]) => captions.map(value)),
  })
}

/** A completed caption whose text a new caption of the same image may take. */
export interface ReuseSource {
  id: string
  caption: string
}

export interface SameImageQuery {
  caller: string
  promptStyle: string
  captionLength: string
  imageUrls: readonly string[]
  /** The oldest completion that may still be reused. */
  since: Date
}

/**
 * For each of the caller's image URLs (with these options): the newest caption completed since
 * `since`, whose text may be reused; else the oldest open caption sent by itself, to wait for. A
 * simulated caption is neither: its text did not come from GoAPI.
 */
export async function findSameImageCaptions(
  sql: Queryable,
  query: SameImageQuery,
): Promise<{ sources: Map<string, ReuseSource>; leaders: Map<string, string> }> {
  const { rows } = await sql.query<{ imageUrl: string; id: string; caption: string | null; open: boolean }>({
    name: 'find-same-image-captions',
    text: `SELECT DISTINCT ON (image_url, open) image_url AS "imageUrl", id, caption, open FROM (
        SELECT image_url, id, caption, created_at, completed_at, status <> 'completed' AS open
        FROM captions
        WHERE caller = $1 AND md5(image_url) = ANY($4::text[]) AND image_url = ANY($5::text[])
          AND prompt_style = $2 AND caption_length = $3 AND NOT simulated
          AND ((status = 'completed' AND completed_at >= $6)
            OR (status IN ('queued', 'pending', 'processing') AND waits_for IS NULL))) AS same
      ORDER BY image_url, open, completed_at DESC NULLS LAST, created_at, id`,
    values: [
      query.caller,
      query.promptStyle,
      query.captionLength,
      query.imageUrls.map(md5),
      query.imageUrls,
      query.since,
    ],
  })
  const sources = new Map<string, ReuseSource>()
  const leaders = new Map<string, string>()
  for (const row of rows) {
    if (row.open) leaders.set(row.imageUrl, row.id)
    else sources.set(row.imageUrl, { id: row.id, caption: row.caption ?? '' })
  }
  return { sources, leaders }
}

const md5 = (text: string) => createHash('md5').update(text).digest('hex')

export async function findCaption(sql: Sql, id: string): Promise<CaptionRow | null> {
  const { rows } = await sql.query<CaptionRow>({
    name: 'find-caption',
    text: `SELECT ${CAPTION_COLUMNS} FROM captions WHERE id = $1`,
    values: [id],
  })
  return rows[0] ?? null
}

/** A caption as its caller may see it: another caller's caption does not exist for it. */
export async function findCallerCaption(sql: Sql, id: string, caller: string): Promise<CaptionView | null> {
  const { rows } = await sql.query<CaptionView>({
    name: 'find-caller-caption',
    text: `SELECT ${VIEW_COLUMNS} FROM captions WHERE id = $1 AND caller = $2`,
    values: [id, caller],
  })
  return rows[0] ?? null
}

export interface ListPosition {
  createdAt: Date
  id: string
}

/** Newest first; `after` is the last row of the previous page. */
export async function listCaptions(
  sql: Sql,
  options: {
    caller: string
    status: CaptionStatus | undefined
    limit: number
    after: ListPosition | undefined
  },
): Promise<CaptionView[]> {
  const { after } = options
  const { rows } = await sql.query<CaptionView>({
    name: 'list-captions',
    text: `SELECT ${VIEW_COLUMNS} FROM captions
      WHERE caller = $1
        AND ($2::caption_status IS NULL OR status = $2::caption_status)
        AND ($3::timestamptz IS NULL OR (created_at, id) < ($3::timestamptz, $4::uuid))
      ORDER BY created_at DESC, id DESC
      LIMIT $5`,
    values: [
      options.caller,
      options.status ?? null,
      after?.createdAt ?? null,
      after?.id ?? null,
      options.limit,
    ],
  })
  return rows
}

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
    callback_next_at = CASE WHEN u.new_rank = 3 AND c.callback_state = 'pending' THEN u.new_now
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
    AND (CASE c.status WHEN 'queued' THEN 0 WHEN 'pending' THEN 1 WHEN 'processing' THEN 2 ELSE 3 END) < u.new_rank
    AND (c.goapi_task_id IS NULL OR c.goapi_task_id = u.new_task_id)
    AND NOT EXISTS (SELECT 1 FROM captions o WHERE o.goapi_task_id = u.new_task_id AND o.id <> c.id)
  RETURNING ${CAPTION_COLUMNS},
    (SELECT count(*) FROM captions w WHERE w.waits_for = c.id AND w.status = 'queued')::int AS "followers"`

const RANK: Record<CaptionStatus, number> = { queued: 0, pending: 1, processing: 2, completed: 3, failed: 3 }

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
  interface Waiting {
    advance: CaptionAdvance
    resolve: (moved: AdvancedCaption | undefined) => void
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

/** Ends a caption that has not ended yet as failed; its caller's callback (if any) is due now. */
export async function failCaption(
  sql: Sql,
  captionId: string,
  error: { code: string; message: string },
  now: Date,
): Promise<boolean> {
  const { rowCount } = await sql.query({
    name: 'fail-caption',
    text: `UPDATE captions SET status = 'failed', error_code = $2, error_message = $3, updated_at = $4,
        completed_at = $4, next_attempt_at = NULL,
        callback_next_at = CASE WHEN callback_state = 'pending' THEN $4::timestamptz END
      WHERE id = $1 AND status = ANY($5::caption_status[])`,
    values: [captionId, error.code, error.message, now, statusesBefore('failed')],
  })
  return rowCount === 1
}

/** Only the status: what background work reads to pick a caption's next step. */
export async function findCaptionStatus(sql: Sql, id: string): Promise<CaptionStatus | undefined> {
  const { rows } = await sql.query<{ status: CaptionStatus }>({
    name: 'find-caption-status',
    text: 'SELECT status FROM captions WHERE id = $1',
    values: [id],
  })
  return rows[0]?.status
}

/** Adds to a counter column rather than setting it. */
export interface Increment {
  increment: number
}

/** What a step of background work may write about a caption besides its lease. */
export interface StepChanges {
  nextAttemptAt?: Date
  submitState?: CaptionRow['submitState']
  submittedAt?: Date
  submitAttempts?: Increment
  resubmissions?: Increment
  pollAttempts?: Increment
  notFoundPolls?: number | Increment
  callbackState?: CaptionRow['callbackState']
  callbackAttempts?: number
  /** Set only while a callback is pending: the claim walks these in order. */
  callbackNextAt?: Date | null
}

/** What a step may require of the caption beyond the lease, compared for equality. */
export type StepCondition = Partial<Pick<CaptionRow, 'status' | 'callbackState' | 'callbackAttempts'>>

// Only these names ever reach the SQL text; the values travel as parameters.
const COLUMN_OF: Record<keyof StepChanges | keyof StepCondition, string> = {
  nextAttemptAt: 'next_attempt_at',
  submitState: 'submit_state',
  submittedAt: 'submitted_at',
  submitAttempts: 'submit_attempts',
  resubmissions: 'resubmissions',
  pollAttempts: 'poll_attempts',
  notFoundPolls: 'not_found_polls',
  callbackState: 'callback_state',
  callbackAttempts: 'callback_attempts',
  callbackNextAt: 'callback_next_at',
  status: 'status',
}

/**
 * One statement writing `changes` to a caption only while `owner` holds its lease and `condition`
 * holds; `releasing` also gives the lease back in the same statement.
 */
async function updateLeased(
  sql: Sql,
  captionId: string,
  owner: string,
  condition: StepCondition,
  changes: StepChanges,
  releasing: boolean,
): Promise<boolean> {
  const values: unknown[] = [captionId, owner]
  const parameter = (value: unknown) => {
    values.push(value)
    return `$${values.length}`
  }
  const sets: string[] = []
  for (const [key, value] of Object.entries(changes) as [
    keyof StepChanges,
    StepChanges[keyof StepChanges],
  ][]) {
    if (value === undefined) continue
    const column = COLUMN_OF[key]
    sets.push(
      value !== null && typeof value === 'object' && 'increment' in value
        ? `${column} = ${column} + ${parameter(value.increment)}::int`
        : `${column} = ${parameter(value)}`,
    )
  }
  if (releasing) sets.push('lease_owner = NULL', 'lease_expires_at = NULL')
  if (sets.length === 0) sets.push('lease_owner = lease_owner')
  const conditions = (Object.entries(condition) as [keyof StepCondition, unknown][])
    .filter(([, value]) => value !== undefined)
    .map(([key, value]) => ` AND ${COLUMN_OF[key]} = ${parameter(value)}`)
  const { rowCount } = await sql.query(
    `UPDATE captions SET ${sets.join(', ')} WHERE id = $1 AND lease_owner = $2${conditions.join('')}`,
    values,
  )
  return rowCount === 1
}

/**
 * Records the outcome of a step of background work and gives the caption's lease back, in one
 * statement, only while `owner` still holds the lease. A replica whose lease ran out (it stalled and
 * another took over) writes nothing: returns false.
 */
export function finishLeasedStep(
  sql: Sql,
  captionId: string,
  owner: string,
  changes: StepChanges = {},
): Promise<boolean> {
  return updateLeased(sql, captionId, owner, {}, changes, true)
}

/** Writes in the middle of a step, keeping the lease; fenced on the lease like `finishLeasedStep`. */
export function updateWhileLeased(
  sql: Sql,
  captionId: string,
  owner: string,
  condition: StepCondition,
  changes: StepChanges,
): Promise<boolean> {
  return updateLeased(sql, captionId, owner, condition, changes, false)
}

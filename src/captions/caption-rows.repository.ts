import type { Queryable, Sql } from '../db/pool.js'
import type { Caption } from '../generated/prisma/client.js'
import { freeSlots } from './slot-rows.js'
import type { CaptionStatus } from './statuses.js'

/** A caption row as the statements here return it: Prisma's `Caption` type, the schema's own. */
export type CaptionRow = Caption

/** Any JSON value, as stored in a jsonb column. */
export type JsonValue = string | number | boolean | null | JsonValue[] | { [key: string]: JsonValue }

/**
 * Each field of Prisma's `Caption` and its column (the `@map` of prisma/schema.prisma): the one place
 * the captions table's column names are written. Only these names ever reach SQL text.
 */
export const CAPTION_FIELDS = {
  id: 'id',
  caller: 'caller',
  status: 'status',
  imageUrl: 'image_url',
  promptStyle: 'prompt_style',
  captionLength: 'caption_length',
  callbackUrl: 'callback_url',
  metadata: 'metadata',
  caption: 'caption',
  errorCode: 'error_code',
  errorMessage: 'error_message',
  goapiTaskId: 'goapi_task_id',
  goapiTask: 'goapi_task',
  createdAt: 'created_at',
  updatedAt: 'updated_at',
  completedAt: 'completed_at',
  submitState: 'submit_state',
  submitAttempts: 'submit_attempts',
  resubmissions: 'resubmissions',
  submittedAt: 'submitted_at',
  pollAttempts: 'poll_attempts',
  notFoundPolls: 'not_found_polls',
  nextAttemptAt: 'next_attempt_at',
  deadlineAt: 'deadline_at',
  leaseOwner: 'lease_owner',
  leaseExpiresAt: 'lease_expires_at',
  callbackState: 'callback_state',
  callbackAttempts: 'callback_attempts',
  callbackNextAt: 'callback_next_at',
  batchId: 'batch_id',
  itemIndex: 'item_index',
  name: 'name',
  fileName: 'file_name',
  reuse: 'reuse',
  reusedFrom: 'reused_from',
  waitsFor: 'waits_for',
  goapiTasks: 'goapi_tasks',
  reservedCents: 'reserved_cents',
  simulated: 'simulated',
  notifyWhenFinal: 'notify_when_final',
  traceParent: 'trace_parent',
  retries: 'retries',
  earlierTaskIds: 'earlier_task_ids',
} as const satisfies Record<keyof Caption, string>

/** `column AS "field"` for each field (`alias.column` with an alias), as a select or RETURNING list. */
function columnList(fields: readonly (keyof Caption)[], alias?: string): string {
  return fields
    .map((field) => {
      const column = alias === undefined ? CAPTION_FIELDS[field] : `${alias}.${CAPTION_FIELDS[field]}`
      return CAPTION_FIELDS[field] === field ? column : `${column} AS "${field}"`
    })
    .join(', ')
}

/** What a caller is shown of a caption: its resource's columns, without GoAPI's stored task. */
const VIEW_FIELDS = [
  'id',
  'caller',
  'status',
  'imageUrl',
  'promptStyle',
  'captionLength',
  'callbackUrl',
  'metadata',
  'caption',
  'errorCode',
  'errorMessage',
  'goapiTaskId',
  'createdAt',
  'updatedAt',
  'completedAt',
  'callbackState',
  'callbackAttempts',
  'batchId',
  'name',
  'fileName',
  'reusedFrom',
  'goapiTasks',
  'retries',
] as const satisfies readonly (keyof Caption)[]

export type CaptionView = Pick<CaptionRow, (typeof VIEW_FIELDS)[number]>

// A row read by background work: every column but `simulated`, which only the reuse lookup reads, and
// `notifyWhenFinal`, which only its trigger reads.
const ROW_FIELDS = (Object.keys(CAPTION_FIELDS) as (keyof Caption)[]).filter(
  (field) => field !== 'simulated' && field !== 'notifyWhenFinal',
)

/** The columns of a `CaptionRow`, optionally qualified by a table alias (`c.image_url AS "imageUrl"`). */
export const captionColumns = (alias?: string): string => columnList(ROW_FIELDS, alias)

// Reads for callers skip goapi_task: the whole stored task would be fetched and parsed to be dropped.
export const VIEW_COLUMNS = columnList(VIEW_FIELDS)

/** How a new caption starts out. */
export type CaptionStart =
  /** Sent to GoAPI at once by this replica, which holds its lease meanwhile (its task slot is taken). */
  | { kind: 'send'; lease: { owner: string; until: Date }; deadlineAt: Date }
  /** Queued until background work gives it a free GoAPI task slot. */
  | { kind: 'wait' }
  /** Queued behind an earlier open caption of the same image, to take its text once it completes. */
  | { kind: 'waitFor'; sameImageCaption: string }
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
  field: keyof Caption,
  type: string,
  value: (c: NewCaption) => unknown,
])[] = [
  ['id', 'uuid', (c) => c.id],
  ['caller', 'text', (c) => c.caller],
  ['status', 'caption_status', (c) => (c.start.kind === 'reuse' ? 'completed' : 'queued')],
  ['imageUrl', 'text', (c) => c.imageUrl],
  ['promptStyle', 'text', (c) => c.promptStyle],
  ['captionLength', 'text', (c) => c.captionLength],
  ['callbackUrl', 'text', (c) => c.callbackUrl ?? null],
  ['callbackState', 'callback_state', (c) => (c.callbackUrl ? 'pending' : 'none')],
  ['metadata', 'jsonb', (c) => JSON.stringify(c.metadata)],
  ['createdAt', 'timestamptz', (c) => c.now],
  ['updatedAt', 'timestamptz', (c) => c.now],
  ['deadlineAt', 'timestamptz', (c) => (c.start.kind === 'send' ? c.start.deadlineAt : null)],
  [
    'nextAttemptAt',
    'timestamptz',
    (c) => (c.start.kind === 'send' || c.start.kind === 'wait' ? c.now : null),
  ],
  ['leaseOwner', 'text', (c) => (c.start.kind === 'send' ? c.start.lease.owner : null)],
  ['leaseExpiresAt', 'timestamptz', (c) => (c.start.kind === 'send' ? c.start.lease.until : null)],
  ['submitState', 'submit_state', (c) => (c.start.kind === 'send' ? 'in_flight' : 'not_sent')],
  ['submittedAt', 'timestamptz', (c) => (c.start.kind === 'send' ? c.now : null)],
  ['submitAttempts', 'int', (c) => (c.start.kind === 'send' ? 1 : 0)],
  ['caption', 'text', (c) => (c.start.kind === 'reuse' ? c.start.from.caption : null)],
  ['completedAt', 'timestamptz', (c) => (c.start.kind === 'reuse' ? c.now : null)],
  ['callbackNextAt', 'timestamptz', (c) => (c.start.kind === 'reuse' && c.callbackUrl ? c.now : null)],
  ['reuse', 'bool', (c) => c.reuse],
  ['reusedFrom', 'uuid', (c) => (c.start.kind === 'reuse' ? c.start.from.id : null)],
  ['waitsFor', 'uuid', (c) => (c.start.kind === 'waitFor' ? c.start.sameImageCaption : null)],
  ['reservedCents', 'int', (c) => c.reservedCents],
  ['simulated', 'bool', (c) => c.simulated],
  ['batchId', 'uuid', (c) => c.item?.batchId ?? null],
  ['itemIndex', 'int', (c) => c.item?.index ?? null],
  ['name', 'text', (c) => c.item?.name ?? null],
  ['fileName', 'text', (c) => c.item?.fileName ?? null],
  ['traceParent', 'text', (c) => c.traceParent ?? null],
]

const INSERT_COLUMN_LIST = INSERT_COLUMNS.map(([field]) => CAPTION_FIELDS[field]).join(', ')

const INSERT_CAPTION = `INSERT INTO captions (${INSERT_COLUMN_LIST})
  VALUES (${INSERT_COLUMNS.map(([, type], index) => `$${index + 1}::${type}`).join(', ')})
  RETURNING ${captionColumns()}`

export async function insertCaption(sql: Queryable, caption: NewCaption): Promise<CaptionRow> {
  const { rows } = await sql.query<CaptionRow>({
    name: 'insert-caption',
    text: INSERT_CAPTION,
    values: INSERT_COLUMNS.map(([, , value]) => value(caption)),
  })
  return rows[0] as CaptionRow
}

/*
 * A caption to send at once under a cap on GoAPI tasks, in one statement: it takes a free task slot if
 * there is one and is inserted as being sent, else it is inserted waiting queued for one (the columns
 * below then hold what a `wait` start writes).
 */
const WHEN_NO_FREE_SLOT: Partial<Record<keyof Caption, string>> = {
  deadlineAt: 'NULL',
  leaseOwner: 'NULL',
  leaseExpiresAt: 'NULL',
  submitState: "'not_sent'",
  submittedAt: 'NULL',
  submitAttempts: '0',
}

const INSERT_CAPTION_TAKING_SLOT = `WITH free AS (${freeSlots('1')}),
  inserted AS (
    INSERT INTO captions (${INSERT_COLUMN_LIST})
    SELECT ${INSERT_COLUMNS.map(([field, type], index) => {
      const waiting = WHEN_NO_FREE_SLOT[field]
      const value = `$${index + 1}::${type}`
      return waiting === undefined ? value : `CASE WHEN free.slot IS NULL THEN ${waiting} ELSE ${value} END`
    }).join(', ')}
    FROM (SELECT) one LEFT JOIN free ON true
    RETURNING ${captionColumns()}),
  taken AS (UPDATE goapi_slots s SET caption_id = inserted.id FROM free, inserted WHERE s.slot = free.slot)
  SELECT * FROM inserted`

/** Inserts a caption to send now, which waits queued instead when no GoAPI task slot is free. */
export async function insertCaptionTakingSlot(sql: Queryable, caption: NewCaption): Promise<CaptionRow> {
  if (caption.start.kind !== 'send') return insertCaption(sql, caption)
  const { rows } = await sql.query<CaptionRow>({
    name: 'insert-caption-taking-slot',
    text: INSERT_CAPTION_TAKING_SLOT,
    values: INSERT_COLUMNS.map(([, , value]) => value(caption)),
  })
  return rows[0] as CaptionRow
}

// Many rows in one statement: one array per column (jsonb travels as text, arrays of it being awkward).
const INSERT_CAPTIONS = `INSERT INTO captions (${INSERT_COLUMN_LIST})
  SELECT ${INSERT_COLUMNS.map(([field, type]) => (type === 'jsonb' ? `${CAPTION_FIELDS[field]}::jsonb` : CAPTION_FIELDS[field])).join(', ')}
  FROM unnest(${INSERT_COLUMNS.map(([, type], index) => `$${index + 1}::${type === 'jsonb' ? 'text' : type}[]`).join(', ')})
    AS u(${INSERT_COLUMN_LIST})`

/** Inserts many captions in one statement (a batch's items). */
export async function insertCaptions(sql: Queryable, captions: readonly NewCaption[]): Promise<void> {
  await sql.query({
    name: 'insert-captions',
    text: INSERT_CAPTIONS,
    values: INSERT_COLUMNS.map(([, , value]) => captions.map(value)),
  })
}

const FIND_CAPTION = `SELECT ${captionColumns()} FROM captions WHERE id = $1`

export async function findCaption(sql: Sql, id: string): Promise<CaptionRow | null> {
  const { rows } = await sql.query<CaptionRow>({ name: 'find-caption', text: FIND_CAPTION, values: [id] })
  return rows[0] ?? null
}

const FIND_CALLER_CAPTION = `SELECT ${VIEW_COLUMNS} FROM captions WHERE id = $1 AND caller = $2`

/** A caption as its caller may see it: another caller's caption does not exist for it. */
export async function findCallerCaption(sql: Sql, id: string, caller: string): Promise<CaptionView | null> {
  const { rows } = await sql.query<CaptionView>({
    name: 'find-caller-caption',
    text: FIND_CALLER_CAPTION,
    values: [id, caller],
  })
  return rows[0] ?? null
}

const WATCH_CALLER_CAPTION = `UPDATE captions SET notify_when_final = true WHERE id = $1 AND caller = $2
  RETURNING ${VIEW_COLUMNS}`

/**
 * The caller's caption, read as `findCallerCaption` does, now marked so that its end is announced on the
 * "caption_finished" channel: a request about to wait for it reads it here, after subscribing.
 */
export async function watchCallerCaption(sql: Sql, id: string, caller: string): Promise<CaptionView | null> {
  const { rows } = await sql.query<CaptionView>({
    name: 'watch-caller-caption',
    text: WATCH_CALLER_CAPTION,
    values: [id, caller],
  })
  return rows[0] ?? null
}

export interface ListPosition {
  createdAt: Date
  id: string
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

const FIND_TASK_OWNERSHIP = `SELECT (SELECT goapi_task_id FROM captions WHERE id = $1) AS caption_task_id,
    EXISTS (SELECT 1 FROM captions WHERE id = $1) AS exists,
    (SELECT caller FROM captions WHERE id = $1) AS caller,
    (SELECT id FROM captions WHERE goapi_task_id = $2) AS owner`

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
  }>({ name: 'find-task-ownership', text: FIND_TASK_OWNERSHIP, values: [captionId, goapiTaskId] })
  const row = rows[0]
  return {
    captionExists: row?.exists ?? false,
    captionTaskId: row?.caption_task_id ?? null,
    taskOwner: row?.owner ?? null,
    caller: row?.caller ?? null,
  }
}

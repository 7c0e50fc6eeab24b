import type { Sql } from '../db/pool.js'
import { CAPTION_FIELDS, type CaptionRow } from './caption-rows.repository.js'
import { type CaptionStatus, statusesBefore } from './statuses.js'

/*
 * What background work writes about a caption it holds the lease of: each write fenced on the lease, so a
 * replica whose lease ran out (it stalled and another took over) writes nothing.
 */

const FAIL_CAPTION = `UPDATE captions SET status = $6::caption_status, error_code = $2, error_message = $3,
    updated_at = $4, completed_at = $4, next_attempt_at = NULL,
    callback_next_at = CASE WHEN callback_state = 'pending' THEN $4::timestamptz END
  WHERE id = $1 AND status = ANY($5::caption_status[])`

/** Ends a caption that has not ended yet as failed; its caller's callback (if any) is due now. */
export async function failCaption(
  sql: Sql,
  captionId: string,
  error: { code: string; message: string },
  now: Date,
): Promise<boolean> {
  const { rowCount } = await sql.query({
    name: 'fail-caption',
    text: FAIL_CAPTION,
    values: [
      captionId,
      error.code,
      error.message,
      now,
      statusesBefore('failed'),
      'failed' satisfies CaptionStatus,
    ],
  })
  return rowCount === 1
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

/** The fields a step may write or compare: their columns come from the one column map. */
const STEP_FIELDS = new Set<string>([
  'nextAttemptAt',
  'submitState',
  'submittedAt',
  'submitAttempts',
  'resubmissions',
  'pollAttempts',
  'notFoundPolls',
  'callbackState',
  'callbackAttempts',
  'callbackNextAt',
  'status',
] satisfies (keyof StepChanges | keyof StepCondition)[])

// Only these names ever reach the SQL text; the values travel as parameters.
function columnOf(field: keyof StepChanges | keyof StepCondition): string {
  if (!STEP_FIELDS.has(field)) throw new Error(`not a step field: ${field}`)
  return CAPTION_FIELDS[field]
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
    const column = columnOf(key)
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
    .map(([key, value]) => ` AND ${columnOf(key)} = ${parameter(value)}`)
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

import type { Sql } from '../db/pool.js'
import type { CallbackSubjectAdapter, CallbackSubjectKind } from './subjects.js'

/**
 * Which subjects' callbacks are due, for background work (which leases them, see
 * work/work.repository.ts) and for /metrics (which counts them).
 */

/** Who takes due rows, until when, and how many at most. */
export interface DueClaim {
  owner: string
  now: Date
  leaseUntil: Date
  limit: number
}

/** Each kind's claim statement, made once from the constants its feature registered. */
const CLAIMS = new Map<CallbackSubjectKind, { name: string; text: string }>()

/**
 * Leases the subjects of a kind whose callback is due, oldest due first: those with an event to tell
 * (a caption finished, a batch completed).
 */
function claimStatement(kind: CallbackSubjectKind): { name: string; text: string } {
  const made = CLAIMS.get(kind)
  if (made) return made
  const { table, finished, prefix, columns } = kind
  const statement = {
    name: `claim-due-${prefix}callbacks`,
    text: `UPDATE ${table} SET lease_owner = $1, lease_expires_at = $2
      WHERE id IN (
        SELECT id FROM ${table}
        WHERE ${finished}
          AND callback_state = 'pending'
          AND callback_next_at <= $3
          AND (lease_expires_at IS NULL OR lease_expires_at < $3)
        ORDER BY callback_next_at
        LIMIT $4
        FOR UPDATE SKIP LOCKED)
      RETURNING ${columns}`,
  }
  CLAIMS.set(kind, statement)
  return statement
}

/** The subjects of the adapter's kind whose caller is still to be told at its callbackUrl, as leased. */
export async function claimDueCallbacks<Row extends { id: string }>(
  sql: Sql,
  adapter: CallbackSubjectAdapter<Row>,
  claim: DueClaim,
): Promise<Row[]> {
  const { rows } = await sql.query<Row>({
    ...claimStatement(adapter.kind),
    values: [claim.owner, claim.leaseUntil, claim.now, claim.limit],
  })
  return rows
}

/** Callbacks due now that no replica holds, of every kind given, in one statement. */
export async function countDueCallbacks(sql: Sql, kinds: readonly CallbackSubjectKind[]): Promise<number> {
  if (kinds.length === 0) return 0
  const counts = kinds.map(
    ({
      table,
    }) => `(SELECT count(*) FROM ${table} WHERE callback_state = 'pending' AND callback_next_at <= now()
        AND (lease_expires_at IS NULL OR lease_expires_at < now()))`,
  )
  const { rows } = await sql.query<{ due: number }>({
    name: `count-due-callbacks-${kinds.map((kind) => kind.name).join('-')}`,
    text: `SELECT (${counts.join('\n      + ')})::int AS due`,
  })
  return rows[0]?.due ?? 0
}

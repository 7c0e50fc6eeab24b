import type { Queryable, Sql } from '../db/pool.js'
import { inTransaction } from '../db/pool.js'
import { type CaptionRow, captionColumns } from './caption-rows.repository.js'
import { type CaptionStatus, IS_OPEN_LITERAL } from './statuses.js'

/**
 * GoAPI task slots: a GoAPI account runs only so many tasks at once, so at most
 * `GOAPI_MAX_CONCURRENCY` of this deployment's tasks are unfinished at any time, across all replicas.
 * A caption holds a slot from the moment it is marked as being sent until it finishes (a create that
 * got no clear answer keeps holding it: the task may exist). The count is taken in PostgreSQL under one
 * transaction-level advisory lock, so two replicas never both take the last slot.
 */

/** The advisory lock key under which slots are counted and taken. */
const SLOT_LOCK = 7_301_202_611

/**
 * A caption waiting for a GoAPI task slot: queued and not sent, or refused and to be sent again. One
 * waiting for a caption of the same image (`waits_for`) takes no slot. `queued` is where the statement
 * holds the status 'queued' (a parameter, or a literal in a statement that takes none).
 */
export const waitsForSlot = (queued: string, alias = ''): string =>
  `${alias}status = ${queued} AND ${alias}submit_state IN ('not_sent', 'refused')`

/** The status parameter `waitsForSlot` compares with. */
export const QUEUED: CaptionStatus = 'queued'

// Open captions only, written literally so the count reads the partial index on open captions.
const HOLDS_SLOT = `${IS_OPEN_LITERAL}
  AND submit_state IN ('in_flight', 'ambiguous', 'accepted')`

const COUNT_GOAPI_SLOTS = `SELECT count(*)::int AS used FROM captions WHERE ${HOLDS_SLOT}`

/** Serializes slot-taking until the transaction ends; then counts the slots in use. */
export async function lockSlotsAndCount(client: Queryable): Promise<number> {
  await client.query({
    name: 'lock-goapi-slots',
    text: 'SELECT pg_advisory_xact_lock($1)',
    values: [SLOT_LOCK],
  })
  const { rows } = await client.query<{ used: number }>({
    name: 'count-goapi-slots',
    text: COUNT_GOAPI_SLOTS,
  })
  return rows[0]?.used ?? 0
}

export interface SlotClaim {
  owner: string
  now: Date
  leaseUntil: Date
  /** For captions sent for the first time. */
  deadlineAt: Date
  /** The most captions to take in one go. */
  limit: number
  /** GOAPI_MAX_CONCURRENCY; 0 for no limit. */
  maxConcurrency: number
}

/**
 * Gives free slots to the captions waiting for one, and marks them as being sent under this replica's
 * lease: round-robin between callers (each caller's oldest first; among callers at the same turn, the
 * one served longest ago first), so another caller's single caption does not wait behind a large
 * batch. Returns the captions taken, to be sent now.
 */
export function takeFreeSlots(sql: Sql, claim: SlotClaim): Promise<CaptionRow[]> {
  // Without a cap there is nothing to count: one statement, whose row locks keep replicas apart.
  if (claim.maxConcurrency === 0) return markSent(sql, claim, claim.limit)
  return inTransaction(sql, async (client) => {
    const free = Math.min(claim.limit, claim.maxConcurrency - (await lockSlotsAndCount(client)))
    return free > 0 ? markSent(client, claim, free) : []
  })
}

const TAKE_FREE_GOAPI_SLOTS = `WITH waiting AS (
    SELECT id, caller, created_at, item_index,
      row_number() OVER (PARTITION BY caller ORDER BY created_at, item_index, id) AS turn
    FROM captions
    WHERE ${waitsForSlot('$6::caption_status')} AND waits_for IS NULL
      AND next_attempt_at <= $1 AND (lease_expires_at IS NULL OR lease_expires_at < $1)),
  chosen AS (
    SELECT w.id FROM waiting w LEFT JOIN caller_turns t ON t.caller = w.caller
    ORDER BY w.turn, t.last_sent_at NULLS FIRST, w.created_at, w.item_index, w.id
    LIMIT $2),
  sent AS (
    UPDATE captions c SET submit_state = 'in_flight', submitted_at = $1,
        submit_attempts = submit_attempts + 1, lease_owner = $3, lease_expires_at = $4,
        deadline_at = COALESCE(deadline_at, $5)
      FROM chosen
      WHERE c.id = chosen.id AND ${waitsForSlot('$6::caption_status', 'c.')}
        AND (c.lease_expires_at IS NULL OR c.lease_expires_at < $1)
      RETURNING ${captionColumns('c')}),
  turns AS (
    INSERT INTO caller_turns (caller, last_sent_at) SELECT DISTINCT caller, $1::timestamptz FROM sent
    ON CONFLICT (caller) DO UPDATE SET last_sent_at = EXCLUDED.last_sent_at)
  SELECT * FROM sent`

/** Marks up to `free` waiting captions, chosen round-robin between callers, as being sent. */
async function markSent(sql: Queryable, claim: SlotClaim, free: number): Promise<CaptionRow[]> {
  const { rows } = await sql.query<CaptionRow>({
    name: 'take-free-goapi-slots',
    text: TAKE_FREE_GOAPI_SLOTS,
    values: [claim.now, free, claim.owner, claim.leaseUntil, claim.deadlineAt, QUEUED],
  })
  return rows
}

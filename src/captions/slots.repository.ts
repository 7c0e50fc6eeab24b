import type { Sql } from '../db/pool.js'
import { inTransaction } from '../db/pool.js'
import { type CaptionRow, captionColumns } from './caption-rows.repository.js'
import { freeSlots } from './slot-rows.js'
import { type CaptionStatus, IS_OPEN_LITERAL } from './statuses.js'

/**
 * GoAPI task slots: a GoAPI account runs only so many tasks at once, so at most
 * `GOAPI_MAX_CONCURRENCY` of this deployment's tasks are unfinished at any time, across all replicas.
 * A caption holds a slot from the moment it is marked as being sent until it finishes (a create that
 * got no clear answer keeps holding it: the task may exist). Each slot is a row of `goapi_slots`: the
 * statement that marks captions as being sent takes free rows with `FOR UPDATE SKIP LOCKED` (two
 * statements never take the same row, and neither waits for the other), and triggers give a row back
 * when its caption stops holding it (prisma/migrations/*_goapi_task_slots).
 */

/**
 * A caption waiting for a GoAPI task slot: queued and not sent, or refused and to be sent again. One
 * waiting for a caption of the same image (`waits_for`) takes no slot. `queued` is where the statement
 * holds the status 'queued' (a parameter, or a literal in a statement that takes none).
 */
export const waitsForSlot = (queued: string, alias = ''): string =>
  `${alias}status = ${queued} AND ${alias}submit_state IN ('not_sent', 'refused')`

/** The status parameter `waitsForSlot` compares with. */
export const QUEUED: CaptionStatus = 'queued'

// Open captions only, written literally so the statement reads the partial index on open captions.
const HOLDS_SLOT = `${IS_OPEN_LITERAL}
  AND submit_state IN ('in_flight', 'ambiguous', 'accepted')`

/*
 * Makes the slot rows match GOAPI_MAX_CONCURRENCY, in one transaction: the cap's rows 1 to `max`; a task
 * held in a slot above a lowered cap counted beyond it (below 0); a caption holding a slot without a row
 * (before the cap was set) given one beyond it; then tasks beyond the cap moved into the free slots of
 * the cap, oldest first. Without a cap, no row: nothing is counted. The advisory lock keeps two
 * replicas starting together from interleaving; slot takers never take it.
 */
const SET_SLOT_COUNT = [
  `SELECT pg_advisory_xact_lock(7301202611)`,
  `DELETE FROM goapi_slots WHERE $1::int = 0`,
  `INSERT INTO goapi_slots (slot) SELECT generate_series(1, $1::int) ON CONFLICT (slot) DO NOTHING`,
  `UPDATE goapi_slots SET slot = DEFAULT WHERE slot > $1::int AND caption_id IS NOT NULL`,
  `DELETE FROM goapi_slots WHERE slot > $1::int`,
  `INSERT INTO goapi_slots (caption_id)
    SELECT id FROM captions c WHERE $1::int > 0 AND ${HOLDS_SLOT}
      AND NOT EXISTS (SELECT 1 FROM goapi_slots s WHERE s.caption_id = c.id)
    ORDER BY submitted_at, id`,
  `WITH beyond AS (
      SELECT slot, caption_id, row_number() OVER (ORDER BY slot DESC) AS n FROM goapi_slots WHERE slot < 0),
    free AS (
      SELECT slot, row_number() OVER (ORDER BY slot) AS n FROM goapi_slots
      WHERE slot > 0 AND caption_id IS NULL),
    moved AS (
      DELETE FROM goapi_slots s USING beyond JOIN free USING (n)
      WHERE s.slot = beyond.slot RETURNING beyond.caption_id, free.slot AS into_slot)
  UPDATE goapi_slots s SET caption_id = moved.caption_id FROM moved WHERE s.slot = moved.into_slot`,
]

const slotCounts = new WeakMap<Sql, { max: number; set: Promise<void> }>()

/**
 * Sets the slot rows to GOAPI_MAX_CONCURRENCY (0: no cap) once per pool and cap, before the first
 * statement that takes a slot (a creation or the task-slots job): a lowered or raised cap applies at once.
 */
export function setSlotCount(sql: Sql, max: number): Promise<void> {
  const known = slotCounts.get(sql)
  if (known?.max === max) return known.set
  const set = inTransaction(sql, async (client) => {
    for (const text of SET_SLOT_COUNT) {
      await client.query({ text, values: text.includes('$1') ? [max] : [] })
    }
  })
  slotCounts.set(sql, { max, set })
  // A failure (the database down at start) is tried again by the next statement that takes a slot.
  set.catch(() => {
    if (slotCounts.get(sql)?.set === set) slotCounts.delete(sql)
  })
  return set
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
export async function takeFreeSlots(sql: Sql, claim: SlotClaim): Promise<CaptionRow[]> {
  await setSlotCount(sql, claim.maxConcurrency)
  const { rows } = await sql.query<CaptionRow>({
    // Without a cap there is nothing to count: the row locks of the one statement keep replicas apart.
    ...(claim.maxConcurrency === 0
      ? { name: 'take-waiting-captions', text: takeWaitingCaptions(false) }
      : { name: 'take-free-goapi-slots', text: takeWaitingCaptions(true) }),
    values: [claim.now, claim.limit, claim.owner, claim.leaseUntil, claim.deadlineAt, QUEUED],
  })
  return rows
}

/** Up to $2 waiting captions, chosen round-robin between callers, marked as being sent; each given a free slot when capped. */
const takeWaitingCaptions = (capped: boolean) => `WITH ${
  capped
    ? `free AS (
    SELECT slot, row_number() OVER (ORDER BY slot) AS n FROM (${freeSlots('$2')}) f),`
    : ''
}
  waiting AS (
    SELECT id, caller, created_at, item_index,
      row_number() OVER (PARTITION BY caller ORDER BY created_at, item_index, id) AS turn
    FROM captions
    WHERE ${waitsForSlot('$6::caption_status')} AND waits_for IS NULL
      AND next_attempt_at <= $1 AND (lease_expires_at IS NULL OR lease_expires_at < $1)),
  chosen AS (
    SELECT w.id FROM waiting w LEFT JOIN caller_turns t ON t.caller = w.caller
    ORDER BY w.turn, t.last_sent_at NULLS FIRST, w.created_at, w.item_index, w.id
    LIMIT ${capped ? '(SELECT count(*) FROM free)' : '$2'}),
  sent AS (
    UPDATE captions c SET submit_state = 'in_flight', submitted_at = $1,
        submit_attempts = submit_attempts + 1, lease_owner = $3, lease_expires_at = $4,
        deadline_at = COALESCE(deadline_at, $5)
      FROM chosen
      WHERE c.id = chosen.id AND ${waitsForSlot('$6::caption_status', 'c.')}
        AND (c.lease_expires_at IS NULL OR c.lease_expires_at < $1)
      RETURNING ${captionColumns('c')}),${
        capped
          ? `
  taken AS (
    UPDATE goapi_slots s SET caption_id = numbered.id
      FROM (SELECT id, row_number() OVER (ORDER BY id) AS n FROM sent) numbered JOIN free USING (n)
      WHERE s.slot = free.slot),`
          : ''
      }
  -- In caller order, whatever the plan's grouping yields: two replicas sending for the same callers
  -- then take their turns' rows in one order, and one waits for the other rather than deadlocking.
  turns AS (
    INSERT INTO caller_turns (caller, last_sent_at)
      SELECT DISTINCT caller, $1::timestamptz FROM sent ORDER BY caller
    ON CONFLICT (caller) DO UPDATE SET last_sent_at = EXCLUDED.last_sent_at)
  SELECT * FROM sent`

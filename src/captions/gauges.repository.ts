import type { Sql } from '../db/pool.js'
import { QUEUED, waitsForSlot } from './slots.repository.js'
import { type CaptionStatus, IS_OPEN_LITERAL, OPEN_STATUSES } from './statuses.js'

/*
 * The statement takes no parameters: the open statuses (and the queued one) are written into it, from
 * statuses.ts, so that even a generic plan (and EXPLAIN) use the partial index on open captions.
 */
const IS_OPEN = IS_OPEN_LITERAL
const WAITS_FOR_SLOT = waitsForSlot(`'${QUEUED}'`)

export interface CaptionGauges {
  /** Captions not finished yet, by status. */
  open: Record<CaptionStatus, number>
  /** Seconds since the earliest deadline_at among open captions (null when none has one). */
  sinceOldestDeadline: number | null
  /** Background work due now that no replica holds (see readCaptionGauges). */
  due: { steps: number; slots: number }
}

/**
 * Everything /metrics reads from the database, in one statement: open captions by status and the
 * oldest one's deadline (from the partial index on open captions, whatever the size of the history),
 * and background work due now that no replica holds: steps (a create with no clear answer yet, a poll),
 * and captions waiting for a free GoAPI task slot (due callbacks are counted by callbacks/).
 */
export const CAPTION_GAUGES_STATEMENT = `WITH open AS (
    SELECT status, count(*)::int AS count, min(deadline_at) AS oldest_deadline FROM captions
    WHERE ${IS_OPEN} GROUP BY status
  ), due AS (
    SELECT
      count(*) FILTER (WHERE ${IS_OPEN} AND next_attempt_at <= now() AND NOT (${WAITS_FOR_SLOT}))::int AS steps,
      count(*) FILTER (WHERE ${WAITS_FOR_SLOT} AND waits_for IS NULL AND next_attempt_at <= now())::int AS slots
    FROM captions
    WHERE next_attempt_at <= now()
      AND (lease_expires_at IS NULL OR lease_expires_at < now())
  )
  SELECT (SELECT coalesce(json_object_agg(status, count), '{}') FROM open) AS open,
    (SELECT extract(epoch FROM now() - min(oldest_deadline))::float8 FROM open) AS "sinceOldestDeadline",
    due.steps, due.slots
  FROM due`

export async function readCaptionGauges(sql: Sql): Promise<CaptionGauges> {
  const { rows } = await sql.query<{
    open: Partial<Record<CaptionStatus, number>>
    sinceOldestDeadline: number | null
    steps: number
    slots: number
  }>({ name: 'caption-gauges', text: CAPTION_GAUGES_STATEMENT })
  const row = rows[0]
  const open = { queued: 0, pending: 0, processing: 0, completed: 0, failed: 0, canceled: 0 }
  for (const status of OPEN_STATUSES) open[status] = row?.open[status] ?? 0
  return {
    open,
    sinceOldestDeadline: row?.sinceOldestDeadline ?? null,
    due: { steps: row?.steps ?? 0, slots: row?.slots ?? 0 },
  }
}

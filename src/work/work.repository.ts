import { QUEUED, waitsForSlot } from '../captions/slots.repository.js'
import { OPEN_STATUSES } from '../captions/statuses.js'
import type { Sql } from '../db/pool.js'

/**
 * Row leases: a replica takes due rows with `FOR UPDATE SKIP LOCKED`, so two replicas never take the same
 * row at once, and stamps them with its name and an expiry. A replica that dies (SIGKILL) simply lets
 * its leases run out; the rows are then due for whoever looks next.
 */

export interface Claim {
  owner: string
  now: Date
  leaseUntil: Date
  limit: number
}

/** Captions in motion whose next step is due: a create with no clear answer yet, or a question to GoAPI. */
export async function claimDueCaptions(sql: Sql, claim: Claim): Promise<string[]> {
  const { rows } = await sql.query<{ id: string }>({
    name: 'claim-due-captions',
    text: `UPDATE captions SET lease_owner = $1, lease_expires_at = $2
      WHERE id IN (
        SELECT id FROM captions
        WHERE status = ANY($5::caption_status[])
          -- A queued caption not sent yet waits for a GoAPI task slot instead (slots.repository.ts).
          AND NOT (${waitsForSlot('$6::caption_status')})
          AND next_attempt_at <= $3
          AND (lease_expires_at IS NULL OR lease_expires_at < $3)
        ORDER BY next_attempt_at
        LIMIT $4
        FOR UPDATE SKIP LOCKED)
      RETURNING id`,
    values: [claim.owner, claim.leaseUntil, claim.now, claim.limit, OPEN_STATUSES, QUEUED],
  })
  return rows.map((row) => row.id)
}

/**
 * Gives back every lease a replica holds, captions' and batches', due at once for the others (used
 * when it shuts down).
 */
export async function releaseAllLeases(sql: Sql, owner: string): Promise<number> {
  const { rows } = await sql.query<{ released: number }>({
    name: 'release-all-leases',
    text: `WITH batches_released AS (
        UPDATE batches SET lease_owner = NULL, lease_expires_at = NULL WHERE lease_owner = $1 RETURNING id),
      captions_released AS (
        UPDATE captions SET lease_owner = NULL, lease_expires_at = NULL WHERE lease_owner = $1 RETURNING id)
      SELECT ((SELECT count(*) FROM batches_released) + (SELECT count(*) FROM captions_released))::int
        AS released`,
    values: [owner],
  })
  return rows[0]?.released ?? 0
}

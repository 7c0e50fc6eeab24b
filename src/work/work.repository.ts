import { CAPTION_COLUMNS, type CaptionRow } from '../captions/captions.repository.js'
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
        WHERE status IN ('queued', 'pending', 'processing')
          -- A queued caption not sent yet waits for a GoAPI task slot instead (slots.repository.ts).
          AND NOT (status = 'queued' AND submit_state IN ('not_sent', 'refused'))
          AND next_attempt_at <= $3
          AND (lease_expires_at IS NULL OR lease_expires_at < $3)
        ORDER BY next_attempt_at
        LIMIT $4
        FOR UPDATE SKIP LOCKED)
      RETURNING id`,
    values: [claim.owner, claim.leaseUntil, claim.now, claim.limit],
  })
  return rows.map((row) => row.id)
}

/** Finished captions whose caller is still to be told at its callbackUrl, as leased. */
export async function claimDueCallbacks(sql: Sql, claim: Claim): Promise<CaptionRow[]> {
  const { rows } = await sql.query<CaptionRow>({
    name: 'claim-due-callbacks',
    text: `UPDATE captions SET lease_owner = $1, lease_expires_at = $2
      WHERE id IN (
        SELECT id FROM captions
        WHERE status IN ('completed', 'failed')
          AND callback_state = 'pending'
          AND callback_next_at <= $3
          AND (lease_expires_at IS NULL OR lease_expires_at < $3)
        ORDER BY callback_next_at
        LIMIT $4
        FOR UPDATE SKIP LOCKED)
      RETURNING ${CAPTION_COLUMNS}`,
    values: [claim.owner, claim.leaseUntil, claim.now, claim.limit],
  })
  return rows
}

/** Gives back every lease a replica holds, due at once for the others (used when it shuts down). */
export async function releaseAllLeases(sql: Sql, owner: string): Promise<number> {
  const { rowCount } = await sql.query({
    name: 'release-all-leases',
    text: 'UPDATE captions SET lease_owner = NULL, lease_expires_at = NULL WHERE lease_owner = $1',
    values: [owner],
  })
  return rowCount ?? 0
}

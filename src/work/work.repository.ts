import type { Db, Sql } from '../db/prisma.js'

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

/** Captions still in motion whose next step is due: a submission or a question to GoAPI. */
export async function claimDueCaptions(db: Db, claim: Claim): Promise<string[]> {
  const rows = await db.$queryRaw<{ id: string }[]>`
    UPDATE captions SET lease_owner = ${claim.owner}, lease_expires_at = ${claim.leaseUntil}
    WHERE id IN (
      SELECT id FROM captions
      WHERE status IN ('queued', 'pending', 'processing')
        AND next_attempt_at <= ${claim.now}
        AND (lease_expires_at IS NULL OR lease_expires_at < ${claim.now})
      ORDER BY next_attempt_at
      LIMIT ${claim.limit}
      FOR UPDATE SKIP LOCKED)
    RETURNING id`
  return rows.map((row) => row.id)
}

/** Finished captions whose caller is still to be told at its callbackUrl (plain SQL: it runs on every wake-up). */
export async function claimDueCallbacks(sql: Sql, claim: Claim): Promise<string[]> {
  const { rows } = await sql.query<{ id: string }>({
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
      RETURNING id`,
    values: [claim.owner, claim.leaseUntil, claim.now, claim.limit],
  })
  return rows.map((row) => row.id)
}

/** Gives back every lease a replica holds, due at once for the others (used when it shuts down). */
export async function releaseAllLeases(db: Db, owner: string): Promise<number> {
  const { count } = await db.caption.updateMany({
    where: { leaseOwner: owner },
    data: { leaseOwner: null, leaseExpiresAt: null },
  })
  return count
}

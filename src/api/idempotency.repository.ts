import type { Queryable, Sql } from '../db/pool.js'
import type { IdempotencyKey } from '../generated/prisma/client.js'

export interface KeyClaim {
  caller: string
  key: string
  requestHash: string
  now: Date
  expiresAt: Date
}

const KEY_COLUMNS = `caller, key, request_hash AS "requestHash", caption_id AS "captionId", batch_id AS "batchId",
  response_status AS "responseStatus", response_body AS "responseBody", created_at AS "createdAt",
  expires_at AS "expiresAt"`

/**
 * Takes a caller's Idempotency-Key inside the transaction that inserts what it creates (a caption, a
 * batch), so the key and what it made are committed together or not at all; or finds the request that
 * took the key first. Of two requests racing with one key (on one replica or two), one inserts and the other waits for its commit
 * (ON CONFLICT DO NOTHING), then finds the key taken. Undefined when the key is now this request's.
 */
export async function claimKey(
  client: Queryable,
  claim: KeyClaim,
  made: { captionId: string } | { batchId: string },
): Promise<IdempotencyKey | undefined> {
  const { caller, key } = claim
  await client.query({
    name: 'delete-expired-key',
    text: 'DELETE FROM idempotency_keys WHERE caller = $1 AND key = $2 AND expires_at < $3',
    values: [caller, key, claim.now],
  })
  const inserted = await client.query({
    name: 'insert-key',
    text: `INSERT INTO idempotency_keys (caller, key, request_hash, caption_id, batch_id, created_at, expires_at)
      VALUES ($1, $2, $3, $4, $5, $6, $7) ON CONFLICT DO NOTHING`,
    values: [
      caller,
      key,
      claim.requestHash,
      'captionId' in made ? made.captionId : null,
      'batchId' in made ? made.batchId : null,
      claim.now,
      claim.expiresAt,
    ],
  })
  if (inserted.rowCount === 1) return undefined
  const { rows } = await client.query<IdempotencyKey>({
    name: 'find-key',
    text: `SELECT ${KEY_COLUMNS} FROM idempotency_keys WHERE caller = $1 AND key = $2`,
    values: [caller, key],
  })
  const taken = rows[0]
  if (taken === undefined) throw new Error(`idempotency key ${key} neither inserted nor found`)
  return taken
}

/** Keeps the first answer (its body as JSON) under its key, to be replayed for a repeat of the request. */
export async function saveKeyAnswer(
  sql: Sql,
  caller: string,
  key: string,
  answer: { status: number; body: unknown },
): Promise<void> {
  await sql.query({
    name: 'save-key-answer',
    text: 'UPDATE idempotency_keys SET response_status = $3, response_body = $4 WHERE caller = $1 AND key = $2',
    values: [caller, key, answer.status, JSON.stringify(answer.body)],
  })
}

/** Expired keys can no longer be replayed; deleting them only keeps the table small. */
export async function deleteExpiredKeys(sql: Sql, now: Date): Promise<number> {
  const { rowCount } = await sql.query({
    name: 'delete-expired-keys',
    text: 'DELETE FROM idempotency_keys WHERE expires_at < $1',
    values: [now],
  })
  return rowCount ?? 0
}

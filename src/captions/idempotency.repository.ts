import type { Db } from '../db/prisma.js'
import type { Caption, IdempotencyKey, Prisma } from '../generated/prisma/client.js'

export interface KeyClaim {
  caller: string
  key: string
  requestHash: string
  now: Date
  expiresAt: Date
}

/**
 * Inserts a caption under a caller's Idempotency-Key, or finds the request that took the key first,
 * in one transaction: the key and its caption are committed together or not at all. Of two requests
 * racing with one key (on one replica or two), one inserts and the other waits for its commit
 * (ON CONFLICT DO NOTHING), then finds the key taken.
 */
export function insertCaptionUnderKey(
  db: Db,
  claim: KeyClaim,
  caption: Prisma.CaptionCreateInput,
): Promise<{ created: Caption } | { taken: IdempotencyKey }> {
  const { caller, key } = claim
  return db.$transaction(async (tx) => {
    await tx.idempotencyKey.deleteMany({ where: { caller, key, expiresAt: { lt: claim.now } } })
    const { count } = await tx.idempotencyKey.createMany({
      data: [
        {
          caller,
          key,
          requestHash: claim.requestHash,
          captionId: caption.id as string,
          createdAt: claim.now,
          expiresAt: claim.expiresAt,
        },
      ],
      skipDuplicates: true,
    })
    if (count === 0) {
      return { taken: await tx.idempotencyKey.findUniqueOrThrow({ where: { caller_key: { caller, key } } }) }
    }
    return { created: await tx.caption.create({ data: caption }) }
  })
}

/** Keeps the first answer under its key, to be replayed for a repeat of the request. */
export async function saveKeyAnswer(
  db: Db,
  caller: string,
  key: string,
  answer: { status: number; body: Prisma.InputJsonObject },
): Promise<void> {
  await db.idempotencyKey.update({
    where: { caller_key: { caller, key } },
    data: { responseStatus: answer.status, responseBody: answer.body },
  })
}

/** Expired keys can no longer be replayed; deleting them only keeps the table small. */
export async function deleteExpiredKeys(db: Db, now: Date): Promise<number> {
  const { count } = await db.idempotencyKey.deleteMany({ where: { expiresAt: { lt: now } } })
  return count
}

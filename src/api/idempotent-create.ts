import { createHash } from 'node:crypto'
import type { Queryable, Sql } from '../db/pool.js'
import type { IdempotencyKey } from '../generated/prisma/client.js'
import { addMs } from '../lib/backoff.js'
import { canonicalJson } from './canonical-json.js'
import { IdempotencyKeyInProgress, IdempotencyKeyReused, InvalidIdempotencyKey } from './error-catalog.js'
import { claimKey, saveKeyAnswer } from './idempotency.repository.js'

/** How long a first answer is kept and replayed for a repeat of its request. */
export const IDEMPOTENCY_KEY_TTL_MS = 24 * 60 * 60 * 1000
const IDEMPOTENCY_KEY = /^[\x20-\x7e]{1,255}$/

export function checkIdempotencyKey(key: string | undefined): void {
  if (key !== undefined && !IDEMPOTENCY_KEY.test(key))
    throw new InvalidIdempotencyKey('must be 1 to 255 printable ASCII characters')
}

/**
 * The request as the service understood it (defaults filled in, keys sorted): same meaning, same print.
 * `route` marks a route's requests apart from another's (POST /captions' print has no mark).
 */
export function requestFingerprint(input: unknown, route?: string): string {
  const hash = createHash('sha256')
  if (route !== undefined) hash.update(`${route}\n`)
  return hash.update(canonicalJson(input)).digest('hex')
}

/** What a create made, which its key points at. */
export type Made = { captionId: string } | { batchId: string }

/** Takes the request's key in the transaction given; false when an earlier request holds it. */
export type ClaimKey = (client: Queryable) => Promise<boolean>

export interface IdempotentCreate<Accepted, Body> {
  caller: string
  /** The Idempotency-Key sent, already checked (checkIdempotencyKey); undefined: none. */
  key: string | undefined
  /** requestFingerprint of the request; only worked out when a key was sent. */
  fingerprint: () => string
  made: Made
  now: Date
  /**
   * Records what the request creates. With a key, `claim` comes along: the create calls it first in the
   * transaction it writes in and writes nothing (answering undefined) when it returns false.
   */
  accept(claim: ClaimKey | undefined): Promise<Accepted | undefined>
  /** The first answer to what was accepted. */
  answer(accepted: Accepted): Promise<Body>
  /** What was made, read again (for a first request that never answered). */
  readAgain(id: string): Promise<Body>
}

/**
 * A create with an optional Idempotency-Key: the first request's answer is kept for 24 hours and
 * replayed for the same request; a different request under the same key is refused, as is a repeat
 * while the first is still being answered. A first request that has not answered for longer than a
 * lease (`leaseMs`) is taken to have died after committing: what it made, read again, is the answer.
 */
export async function createIdempotently<Accepted, Body>(
  deps: { sql: Sql; work: { leaseMs: number } },
  create: IdempotentCreate<Accepted, Body>,
): Promise<{ body: Body; replayed: boolean }> {
  const { caller, key, now } = create
  if (key === undefined) {
    const accepted = (await create.accept(undefined)) as Accepted
    return { body: await create.answer(accepted), replayed: false }
  }
  let taken: IdempotencyKey | undefined
  const fingerprint = create.fingerprint()
  const claim: ClaimKey = async (client) => {
    const claimed = {
      caller,
      key,
      requestHash: fingerprint,
      now,
      expiresAt: addMs(now, IDEMPOTENCY_KEY_TTL_MS),
    }
    taken = await claimKey(client, claimed, create.made)
    return taken === undefined
  }
  const accepted = await create.accept(claim)
  if (taken === undefined) {
    const body = await create.answer(accepted as Accepted)
    await saveKeyAnswer(deps.sql, caller, key, { status: 202, body })
    return { body, replayed: false }
  }
  const madeId = 'captionId' in create.made ? taken.captionId : taken.batchId
  if (taken.requestHash !== fingerprint || madeId === null) throw new IdempotencyKeyReused()
  // Kept answers are 24 hours old at most: replayed as they were first sent.
  if (taken.responseBody !== null) return { body: taken.responseBody as Body, replayed: true }
  // The first request has not answered yet; longer than a lease, and its replica died after committing.
  if (now.getTime() - taken.createdAt.getTime() < deps.work.leaseMs) throw new IdempotencyKeyInProgress()
  return { body: await create.readAgain(madeId), replayed: true }
}

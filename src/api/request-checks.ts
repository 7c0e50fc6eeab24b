import type { FastifyRequest } from 'fastify'
import { InvalidField, InvalidIdempotencyKey } from './error-catalog.js'

/**
 * The Idempotency-Key header, sent at most once. Node joins repeated headers it does not know into one
 * value ("a1, a2"), which would pass as one valid key, so repeats are counted in the raw headers.
 */
export function idempotencyKeyOf(request: FastifyRequest): string | undefined {
  const raw = request.raw.rawHeaders
  let sent = 0
  for (let index = 0; index < raw.length; index += 2) {
    if (raw[index]?.toLowerCase() === 'idempotency-key') sent++
  }
  if (sent > 1) throw new InvalidIdempotencyKey('send the header once')
  const key = request.headers['idempotency-key']
  return Array.isArray(key) ? key[0] : key
}

/**
 * The retry routes (a caption's, a batch's) take no body, and the OpenAPI document describes none: no
 * body, an empty one, `{}` and `null` (what earlier clients sent) all count as none.
 */
export function isNoBody(body: unknown): boolean {
  if (body === undefined || body === null) return true
  return typeof body === 'object' && !Array.isArray(body) && Object.keys(body).length === 0
}

/** A route that takes no body refuses one that is not empty, rather than ignoring what it says. */
export function refuseBody(body: unknown): void {
  if (!isNoBody(body)) throw new InvalidField('body', 'must be empty: this route takes no body')
}

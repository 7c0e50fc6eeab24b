import { createHmac, timingSafeEqual } from 'node:crypto'

/**
 * Each caption gets its own webhook secret, `<captionId>.<HMAC(key, captionId)>`, which GoAPI echoes in
 * `x-webhook-secret`. It names the caption it belongs to, so a webhook is tied to its caption even when
 * the create answer (and with it GoAPI's task id) was lost, and one caption's secret cannot speak for
 * another. Every configured key verifies; the first signs new captions, so keys rotate without
 * failing captions in flight.
 */

const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/

function mac(key: string, captionId: string): Buffer {
  return createHmac('sha256', key).update(`caption-webhook:${captionId}`).digest()
}

export function webhookSecretFor(captionId: string, keys: readonly string[]): string {
  const [signingKey] = keys
  if (signingKey === undefined) throw new Error('no webhook key configured')
  return `${captionId}.${mac(signingKey, captionId).toString('base64url')}`
}

/** The caption a presented secret belongs to, or undefined when no configured key made it. */
export function captionIdFromSecret(
  presented: string | undefined,
  keys: readonly string[],
): string | undefined {
  if (presented === undefined) return undefined
  const dot = presented.indexOf('.')
  const captionId = presented.slice(0, dot)
  if (dot < 0 || !UUID.test(captionId)) return undefined
  // The presented text itself is compared, not a decoding of it: only the exact secret issued verifies.
  const given = Buffer.from(presented.slice(dot + 1))
  let matched = false
  // Every key is tried, whatever the outcome, so timing does not tell which key matched.
  for (const key of keys) {
    const expected = Buffer.from(mac(key, captionId).toString('base64url'))
    if (given.length === expected.length && timingSafeEqual(given, expected)) matched = true
  }
  return matched ? captionId : undefined
}

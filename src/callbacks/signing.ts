import { Webhook } from 'standardwebhooks'

/** The Standard Webhooks headers of one delivery attempt. */
export interface SignedHeaders {
  'webhook-id': string
  'webhook-timestamp': string
  'webhook-signature': string
}

export type CallbackSigner = (eventId: string, at: Date, body: string) => SignedHeaders

/**
 * Signs a delivery per Standard Webhooks: `v1,<base64 HMAC-SHA256 of id.timestamp.body>` once per key,
 * space-separated, so that receivers holding either the old or the new key verify it during a rotation.
 * Returns undefined without keys: nothing is then sent unsigned.
 */
export function createCallbackSigner(secrets: readonly string[]): CallbackSigner | undefined {
  if (secrets.length === 0) return undefined
  const keys = secrets.map((secret) => new Webhook(secret))
  return (eventId, at, body) => ({
    'webhook-id': eventId,
    'webhook-timestamp': String(Math.floor(at.getTime() / 1000)),
    'webhook-signature': keys.map((key) => key.sign(eventId, at, body)).join(' '),
  })
}

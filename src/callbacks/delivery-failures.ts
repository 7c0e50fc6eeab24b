/**
 * What the delivery log tells a caller about an attempt that got no HTTP answer: a small fixed set, so
 * the log cannot be used to map which ports of an allowed host listen. The detail (a socket error code,
 * a TLS alert) goes to the service's own log only. An attempt the endpoint answered shows its status
 * code and no error.
 */
export const DELIVERY_ERRORS = [
  'timeout',
  'connection_failed',
  'tls_failed',
  /** The URL is no longer allowed by CALLBACK_ALLOWED_HOSTS: not sent, and not retried. */
  'not_allowed',
  /** No CALLBACK_SIGNING_SECRET: not sent, since nothing is sent unsigned. */
  'not_signed',
  /** The service stopped (or a replica died) before the endpoint answered. */
  'interrupted',
] as const
export type DeliveryError = (typeof DELIVERY_ERRORS)[number]

const TIMEOUT_CODES = new Set([
  'UND_ERR_CONNECT_TIMEOUT',
  'UND_ERR_HEADERS_TIMEOUT',
  'UND_ERR_BODY_TIMEOUT',
  'ETIMEDOUT',
])
const TLS_CODE = /^(ERR_TLS_|ERR_SSL_|CERT_|EPROTO$|UNABLE_TO_|DEPTH_ZERO_|SELF_SIGNED_|HOSTNAME_MISMATCH)/

/** The code and message of a failed request and of its causes, for the service's log. */
export function failureDetail(error: unknown): { code?: string; message: string }[] {
  const chain: { code?: string; message: string }[] = []
  for (let cause = error; cause !== undefined && chain.length < 4; ) {
    const { code, message } = cause as { code?: unknown; message?: unknown }
    chain.push({
      ...(typeof code === 'string' ? { code } : {}),
      message: typeof message === 'string' ? message : String(cause),
    })
    cause = (cause as { cause?: unknown }).cause
  }
  return chain
}

/** Which of the fixed set a request that threw shows the caller. */
export function deliveryErrorOf(error: unknown): DeliveryError {
  const codes = failureDetail(error).map((entry) => entry.code ?? '')
  if (codes.some((code) => TIMEOUT_CODES.has(code))) return 'timeout'
  if (codes.some((code) => TLS_CODE.test(code))) return 'tls_failed'
  return 'connection_failed'
}

/**
 * The error a stored attempt shows: one of the set, whatever an older version of the service wrote
 * (raw socket codes, sentences).
 */
export function shownDeliveryError(stored: string | null): DeliveryError | null {
  if (stored === null) return null
  if ((DELIVERY_ERRORS as readonly string[]).includes(stored)) return stored as DeliveryError
  if (stored.startsWith('timeout')) return 'timeout'
  if (/replica sending it stopped|service is stopping/.test(stored)) return 'interrupted'
  if (stored.includes('CALLBACK_SIGNING_SECRET')) return 'not_signed'
  if (TLS_CODE.test(stored)) return 'tls_failed'
  return 'connection_failed'
}

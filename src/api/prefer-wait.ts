import type { FastifyReply, FastifyRequest } from 'fastify'

/** The longest a request is held for `Prefer: wait`, and what `Prefer: wait` without a value means. */
export const MAX_WAIT_SECONDS = 60

/**
 * The seconds a caller asks to wait for with `Prefer` (RFC 7240), or undefined for no wait. Only the
 * first `wait` counts (RFC 7240 §2); `wait` alone means 60, a longer wait is held to 60 (the caller is
 * willing to wait that long), and a value that is not a whole number of seconds above 0 is not a
 * preference the service supports: ignored, as RFC 7240 asks, never an error. Other preferences are
 * ignored too.
 */
export function preferredWait(header: string | undefined): number | undefined {
  if (header === undefined) return undefined
  for (const preference of header.split(',')) {
    const [nameAndValue = ''] = preference.split(';')
    const equals = nameAndValue.indexOf('=')
    const name = (equals === -1 ? nameAndValue : nameAndValue.slice(0, equals)).trim().toLowerCase()
    if (name !== 'wait') continue
    if (equals === -1) return MAX_WAIT_SECONDS
    const value = nameAndValue
      .slice(equals + 1)
      .trim()
      .replace(/^"(.*)"$/, '$1')
    if (!/^\d{1,9}$/.test(value)) return undefined
    const seconds = Number(value)
    return seconds === 0 ? undefined : Math.min(seconds, MAX_WAIT_SECONDS)
  }
  return undefined
}

/**
 * Holds a request open for up to `ms` more: the socket's idle timeout (the server's
 * `connectionTimeout`) is put off meanwhile, and `signal` aborts when the caller hangs up. `release`
 * restores the timeout and stops watching; call it once the wait is over.
 */
export function holdRequest(
  request: FastifyRequest,
  reply: FastifyReply,
  ms: number,
): { signal: AbortSignal; release(): void } {
  const controller = new AbortController()
  const socket = request.raw.socket
  const idleMs = request.server.initialConfig.connectionTimeout ?? 0
  if (idleMs > 0) socket.setTimeout(ms + idleMs)
  const hungUp = () => {
    if (!reply.raw.writableFinished) controller.abort()
  }
  reply.raw.once('close', hungUp)
  return {
    signal: controller.signal,
    release() {
      reply.raw.off('close', hungUp)
      if (idleMs > 0 && !socket.destroyed) socket.setTimeout(idleMs)
    },
  }
}

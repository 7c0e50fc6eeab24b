import { createHash, timingSafeEqual } from 'node:crypto'
import type { FastifyReply, FastifyRequest } from 'fastify'
import type { ApiToken } from '../config.js'
import { bindToRequestLog } from '../logger.js'
import { HostNotAllowed, Unauthorized } from './error-catalog.js'

declare module 'fastify' {
  interface FastifyRequest {
    /** The authenticated caller's name; empty when callers are not authenticated. */
    caller: string
  }
}

const REALM = 'Bearer realm="caption-service"'
const BEARER = /^Bearer +([\x21-\x7e]+) *$/i

const digest = (token: string) => createHash('sha256').update(token).digest()
/** This machine's own names, with any port: what a browser sends when a local page or tool calls. */
const LOOPBACK_HOST = /^(localhost|127\.0\.0\.1|\[::1\])(:\d{1,5})?$/i

/**
 * An onRequest hook that admits only `Authorization: Bearer <token>` with a token from API_TOKENS, and
 * names the caller on the request and on every log line after it (never the token). Tokens are
 * compared as SHA-256 digests in constant time, every token every time, so timing tells nothing.
 * With no tokens configured every caller is let in, as the empty-named caller, but only by this
 * machine's names in `Host`: a web page whose own name an attacker re-points at 127.0.0.1 (DNS
 * rebinding) sends its own name, and gets 421 instead of the API.
 */
export function authenticateCaller(tokens: readonly ApiToken[]) {
  const known = tokens.map((entry) => ({ caller: entry.caller, digest: digest(entry.token) }))
  // A plain callback hook (a refusal is thrown, which Fastify answers as it does a rejected promise):
  // an async one would cost every request of the API a promise and a turn of the microtask queue.
  return function authenticate(request: FastifyRequest, reply: FastifyReply, done: () => void): void {
    if (known.length === 0) {
      const host = request.headers.host ?? ''
      if (!LOOPBACK_HOST.test(host)) throw new HostNotAllowed(host.slice(0, 100))
      done()
      return
    }
    const presented = BEARER.exec(request.headers.authorization ?? '')?.[1]
    if (presented === undefined) {
      reply.header('www-authenticate', REALM)
      throw new Unauthorized('a bearer token is required: Authorization: Bearer <token>')
    }
    const given = digest(presented)
    let caller: string | undefined
    for (const entry of known) {
      if (timingSafeEqual(given, entry.digest)) caller = entry.caller
    }
    if (caller === undefined) {
      reply.header('www-authenticate', `${REALM}, error="invalid_token"`)
      throw new Unauthorized('the bearer token is not valid')
    }
    request.caller = caller
    // Bound on the request's own logger (which reply.log shares, so Fastify's "request completed" line
    // names the caller too): cheaper than a child logger on every request.
    bindToRequestLog(request.log, { caller })
    done()
  }
}

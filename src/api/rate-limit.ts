import type { FastifyRequest } from 'fastify'
import { RateLimited } from './error-catalog.js'

/**
 * A route's allowance, per caller, so one noisy caller cannot spend another's share; per replica (kept
 * in memory). `what` names what was asked for too often in the refusal.
 */
export function perCallerRateLimit(perMinute: number, what = 'captions') {
  return {
    max: perMinute,
    timeWindow: 60_000,
    keyGenerator: (request: FastifyRequest) =>
      request.caller ? `caller:${request.caller}` : `ip:${request.ip}`,
    errorResponseBuilder: (_request: FastifyRequest, context: { after: string }) =>
      new RateLimited(what, context.after),
  }
}

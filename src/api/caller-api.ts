import type { FastifyPluginAsyncZod } from 'fastify-type-provider-zod'
import type { ApiToken } from '../config.js'
import type { ServiceDeps } from '../deps.js'
import { authenticateCaller } from './caller-auth.js'

/** What every plugin of the callers' API takes: the service, and the allowances of its routes. */
export interface CallerRoutesOptions {
  deps: ServiceDeps
  /** Each GET route's allowance per caller per minute (RATE_LIMIT_READS_PER_MINUTE). */
  readsPerMinute: number
  /** Each create route's allowance per caller per minute (RATE_LIMIT_PER_MINUTE). */
  rateLimitPerMinute: number
  /** Callback resends a caller may ask for per minute (RESEND_RATE_LIMIT_PER_MINUTE). */
  resendRateLimitPerMinute: number
}

/** A feature's routes for callers (captions, batches, exports, usage, deliveries). */
export type CallerRoutes = FastifyPluginAsyncZod<CallerRoutesOptions>

export interface CallerApiOptions extends CallerRoutesOptions {
  /** Caller name → token; empty: callers are not authenticated (see authenticateCaller). */
  apiTokens: readonly ApiToken[]
  routes: readonly CallerRoutes[]
}

/**
 * The callers' API: caller authentication added once, before every route of the feature plugins
 * registered under it. Routes outside it (health, metrics, GoAPI's webhooks) have their own checks.
 */
export const callerApi: FastifyPluginAsyncZod<CallerApiOptions> = async (
  app,
  { apiTokens, routes, ...options },
) => {
  app.addHook('onRequest', authenticateCaller(apiTokens))
  for (const plugin of routes) await app.register(plugin, options)
}

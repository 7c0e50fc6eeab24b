import type { RateLimitOptions } from '@fastify/rate-limit'
import type { FastifyPluginAsyncZod } from 'fastify-type-provider-zod'
import { authenticateCaller } from '../auth/caller-auth.js'
import type { ApiToken } from '../config.js'
import type { ServiceDeps } from '../deps.js'
import { errorResponses } from '../errors.js'
import { readUsage } from './spend.service.js'
import { usageQuery, usageResource } from './usage.schemas.js'

export interface UsageRoutesOptions {
  deps: ServiceDeps
  apiTokens: readonly ApiToken[]
  /** The per-caller limit every caller's GET route has (RATE_LIMIT_READS_PER_MINUTE). */
  readLimit: RateLimitOptions
}

/** What a caller has spent: its own captions only, behind the same caller token as the captions API. */
export const usageRoutes: FastifyPluginAsyncZod<UsageRoutesOptions> = async (app, options) => {
  const { deps } = options
  app.addHook('onRequest', authenticateCaller(options.apiTokens))

  app.get(
    '/usage',
    {
      config: { rateLimit: options.readLimit },
      schema: {
        summary: "The caller's captions in a time range, what they cost, and its daily budget",
        operationId: 'getUsage',
        tags: ['usage'],
        description:
          'Counts the captions created in [from, to): both ISO dates (00:00Z) or date-times with a zone, ' +
          'the current UTC day by default. `budget` is null for a caller without a CALLER_BUDGETS entry.',
        querystring: usageQuery,
        response: {
          200: usageResource,
          ...errorResponses(
            'validation_failed',
            'unauthorized',
            'host_not_allowed',
            'rate_limited',
            'database_unavailable',
            'database_not_migrated',
            'overloaded',
          ),
        },
      },
    },
    async (request) => readUsage(deps, request.caller, request.query),
  )
}

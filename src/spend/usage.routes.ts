import type { CallerRoutes } from '../api/caller-api.js'
import { CALLER_ERRORS, errorResponses } from '../api/error-responses.js'
import { perCallerRateLimit } from '../api/rate-limit.js'
import { readUsage } from './spend.service.js'
import { usageQuery, usageResource } from './usage.schemas.js'

/** What a caller has spent: its own captions only, behind the same caller token as the captions API. */
export const usageRoutes: CallerRoutes = async (app, options) => {
  const { deps } = options

  app.get(
    '/usage',
    {
      config: { rateLimit: perCallerRateLimit(options.readsPerMinute, 'reads') },
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
          ...errorResponses('validation_failed', ...CALLER_ERRORS),
        },
      },
    },
    async (request) => readUsage(deps, request.caller, request.query),
  )
}

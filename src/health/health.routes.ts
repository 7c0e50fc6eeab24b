import type { FastifyPluginAsyncZod } from 'fastify-type-provider-zod'
import { z } from 'zod'
import { errorResponse } from '../api/error-responses.js'
import { databaseProblem, isDatabaseNotMigrated } from '../db/database-errors.js'
import { appliedMigrationNames } from '../db/migrations.repository.js'
import type { Sql } from '../db/pool.js'
import { beforeDeadline } from '../lib/time-limit.js'

const READINESS_TIMEOUT_MS = 2_000

const readiness = z
  .object({
    status: z.enum(['ready', 'not_ready']),
    checks: z.object({ database: z.string(), migrations: z.string() }),
    /** Why the database cannot be used, as PostgreSQL (or the network) said. */
    reason: z.string().optional(),
  })
  .meta({ id: 'Readiness' })

/**
 * `/healthz`: the process answers (liveness; never touches the database, so a database outage does
 * not get replicas restarted). `/readyz`: the database answers and holds every committed migration.
 * While the server closes, Fastify itself answers 503 to new requests, this one included.
 */
export const healthRoutes: FastifyPluginAsyncZod<{
  sql: Sql
  expectedMigrations: readonly string[]
}> = async (app, { sql, expectedMigrations }) => {
  // Liveness answers even under load shedding: a busy replica is not a dead one.
  const notShed = { pressureHandler: () => undefined }
  app.get(
    '/healthz',
    {
      config: notShed,
      schema: {
        summary: 'Liveness: the process answers',
        operationId: 'checkLiveness',
        tags: ['health'],
        security: [],
        response: { 200: z.object({ status: z.literal('ok') }) },
      },
    },
    async () => ({
      status: 'ok' as const,
    }),
  )

  const readyzSchema = {
    summary: 'Readiness: the database answers and every migration is applied',
    operationId: 'checkReadiness',
    tags: ['health'],
    security: [],
    response: {
      200: readiness,
      // A replica shedding load is refused like any request, in the one error shape (`overloaded`).
      503: z.union([readiness, errorResponse]).meta({
        description:
          'Not ready: the database is unreachable or not migrated, or shutting down; or the replica sheds load (`overloaded`)',
      }),
    },
  }
  app.get('/readyz', { schema: readyzSchema }, async (request, reply) => {
    let applied: Set<string>
    try {
      applied = await beforeDeadline(appliedMigrationNames(sql), READINESS_TIMEOUT_MS)
    } catch (error) {
      // A database that answers but has never been migrated has no _prisma_migrations table.
      if (isDatabaseNotMigrated(error)) {
        return reply.code(503).send({
          status: 'not_ready',
          checks: { database: 'ok', migrations: 'not applied (run npm run db:migrate)' },
        })
      }
      // Logged once per outage by the start-up watch and the background work, not once per probe.
      const reason = databaseProblem(error)
      request.log.debug({ reason }, 'readiness: database check failed')
      return reply
        .code(503)
        .send({ status: 'not_ready', checks: { database: 'unreachable', migrations: 'unknown' }, reason })
    }
    const missing = expectedMigrations.filter((name) => !applied.has(name))
    if (missing.length > 0) {
      return reply.code(503).send({
        status: 'not_ready',
        checks: { database: 'ok', migrations: `missing ${missing.join(', ')}` },
      })
    }
    return { status: 'ready' as const, checks: { database: 'ok', migrations: 'ok' } }
  })
}

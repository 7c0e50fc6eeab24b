import type { FastifyBaseLogger } from 'fastify'
import { backoffDelay } from '../lib/backoff.js'
import { databaseAddress, databaseProblem } from './database-errors.js'
import type { Sql } from './pool.js'

/** From 1 s, doubling, to at most 30 s between two tries (and two log lines). */
const RETRY = { baseMs: 1_000, factor: 2, maxMs: 30_000 }

/**
 * Until the database first answers, says so on one line naming DATABASE_URL's host, port and database
 * and PostgreSQL's reason, again at a growing interval: an operator sees what to fix without a stack
 * trace a second. Requests and `/readyz` answer 503 meanwhile; nothing waits for this.
 */
export function watchDatabase(options: {
  sql: Sql
  databaseUrl: string
  log: FastifyBaseLogger
  retry?: typeof RETRY
}): { stop(): void } {
  const { sql, log } = options
  const address = databaseAddress(options.databaseUrl)
  const retry = options.retry ?? RETRY
  let timer: NodeJS.Timeout | undefined
  let stopped = false
  let attempt = 0
  const check = async () => {
    try {
      await sql.query('SELECT 1')
      if (attempt > 0) log.info({ database: address }, `DATABASE_URL (${address}): the database answers now`)
    } catch (error) {
      attempt += 1
      // Full ceiling, no jitter: the log says when the next try is.
      const waitMs = backoffDelay(attempt, retry, () => 1)
      log.error(
        { database: address, reason: databaseProblem(error), retryInMs: waitMs },
        `DATABASE_URL (${address}) cannot be used: ${databaseProblem(error)}; trying again in ${Math.round(waitMs / 1000)} s`,
      )
      if (!stopped) timer = setTimeout(check, waitMs)
    }
  }
  void check()
  return {
    stop() {
      stopped = true
      clearTimeout(timer)
    },
  }
}

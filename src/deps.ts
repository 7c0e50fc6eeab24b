import type { FastifyBaseLogger } from 'fastify'
import type { UrlPolicy } from './captions/url-policy.js'
import type { WorkSettings } from './config.js'
import type { Db } from './db/prisma.js'
import type { GoapiClient } from './goapi/client.js'
import type { Clock } from './lib/clock.js'

/** What the use cases need, passed explicitly: no service reaches for the Fastify instance or globals. */
export interface ServiceDeps {
  db: Db
  goapi: GoapiClient
  log: FastifyBaseLogger
  clock: Clock
  newId: () => string
  random: () => number
  webhook: { endpoint: string; keys: readonly string[] }
  work: WorkSettings
  /** This replica's name on the row leases it takes. */
  workerId: string
  urlPolicy: UrlPolicy
}

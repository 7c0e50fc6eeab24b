import type { FastifyBaseLogger } from 'fastify'
import type { Config, WorkSettings } from './config.js'
import type { Notices } from './db/notices.js'
import type { Sql } from './db/pool.js'
import type { GoapiClient } from './goapi/client.js'
import type { Clock } from './lib/clock.js'
import type { Metrics } from './metrics.js'

/*
 * The type of what everything is handed, and only types from below (db, goapi, lib, config, the metric
 * definitions): any folder may import it without a loop. It is built by createServiceDeps
 * (service-deps.ts), which the process entry and tests import.
 */

/** Where a URL given by a caller may point, which depends on how the service is run. */
export type UrlPolicy = Pick<Config, 'mode' | 'callbackAllowedHosts'>

/**
 * What the HTTP app, the use cases and the background work need, built once by the process entry (or
 * a test) and handed to both `buildApp` and `createWorker`: nothing reaches for the Fastify instance or
 * globals.
 */
export interface ServiceDeps {
  /** The connection pool every repository statement runs on. */
  sql: Sql
  goapi: GoapiClient
  log: FastifyBaseLogger
  metrics: Metrics
  /**
   * Tells this replica's background work that something is due now: a caption finished (its callback,
   * its task slot), or, with `queued`, captions were queued for a task slot.
   */
  wake: (what?: WakeReason) => void
  /** Subscribes to `wake`; returns the unsubscribe. */
  onWake: (listener: (what?: WakeReason) => void) => () => void
  /**
   * The ids of captions that reached a final status, in any replica (heard on this replica's one
   * listening connection): what a request waiting for its caption (`Prefer: wait`) waits on.
   */
  finishedCaptions: Notices
  clock: Clock
  newId: () => string
  random: () => number
  webhook: { endpoint: string; keys: readonly string[] }
  work: WorkSettings
  /** Signs callbacks (undefined: no CALLBACK_SIGNING_SECRET, and nothing is sent unsigned). */
  callbacks: { sign: CallbackSigner | undefined; retryWindowMs: number }
  /** This replica's name on the row leases it takes. */
  workerId: string
  urlPolicy: UrlPolicy
  /** Largest image a zip export with images=true takes (EXPORT_IMAGE_MAX_BYTES). */
  exportImageMaxBytes: number
  /** Caller → its daily budget in cents (CALLER_BUDGETS); callers not in it are unlimited. */
  budgets: ReadonlyMap<string, number>
  /** The GoAPI simulator makes the captions (zero-setup mode): they are marked, and never reused. */
  simulated: boolean
}

/** Signs one callback delivery attempt: its Standard Webhooks headers (see callbacks/signing.ts). */
export type CallbackSigner = (
  eventId: string,
  at: Date,
  body: string,
) => { 'webhook-id': string; 'webhook-timestamp': string; 'webhook-signature': string }

/** `finished`: a caption ended or a callback was asked for again; `queued`: captions wait for a slot. */
export type WakeReason = 'finished' | 'queued'

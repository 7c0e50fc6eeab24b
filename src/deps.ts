import { EventEmitter } from 'node:events'
import { hostname } from 'node:os'
import type { FastifyBaseLogger } from 'fastify'
import { type CallbackSigner, createCallbackSigner } from './callbacks/signing.js'
import { type AdvanceQueue, createAdvanceQueue } from './captions/captions.repository.js'
import type { Config, WorkSettings } from './config.js'
import type { Sql } from './db/pool.js'
import type { GoapiClient } from './goapi/client.js'
import { type Clock, randomId, systemClock } from './lib/clock.js'
import { countGoapiCalls, createMetrics, type Metrics } from './metrics.js'

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
  /** Caption status changes, group-committed (see createAdvanceQueue). */
  advances: AdvanceQueue
  /**
   * Tells this replica's background work that something is due now: a caption finished (its callback,
   * its task slot), or, with `queued`, captions were queued for a task slot.
   */
  wake: (what?: WakeReason) => void
  /** Subscribes to `wake`; returns the unsubscribe. */
  onWake: (listener: (what?: WakeReason) => void) => () => void
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
  /** Caller → its daily budget in cents (CALLER_BUDGETS); callers not in it are unlimited. */
  budgets: ReadonlyMap<string, number>
  /** The GoAPI simulator makes the captions (zero-setup mode): they are marked, and never reused. */
  simulated: boolean
}

/** `finished`: a caption ended or a callback was asked for again; `queued`: captions wait for a slot. */
export type WakeReason = 'finished' | 'queued'

export interface ServiceDepsInput {
  sql: Sql
  goapi: GoapiClient
  log: FastifyBaseLogger
  clock?: Clock | undefined
  newId?: (() => string) | undefined
  random?: (() => number) | undefined
  /** Host, pid and a random part by default. */
  workerId?: string | undefined
}

export function createServiceDeps(config: Config, input: ServiceDepsInput): ServiceDeps {
  const metrics = createMetrics()
  const wakeSignal = new EventEmitter()
  return {
    sql: input.sql,
    goapi: countGoapiCalls(input.goapi, metrics),
    log: input.log,
    metrics,
    advances: createAdvanceQueue(input.sql),
    wake: (what = 'finished') => wakeSignal.emit('wake', what),
    onWake: (listener) => {
      wakeSignal.on('wake', listener)
      return () => wakeSignal.off('wake', listener)
    },
    clock: input.clock ?? systemClock,
    newId: input.newId ?? randomId,
    random: input.random ?? Math.random,
    webhook: { endpoint: `${config.publicBaseUrl}/webhooks/goapi`, keys: config.webhookSecrets },
    work: config.work,
    callbacks: {
      sign: createCallbackSigner(config.callbacks.signingSecrets),
      retryWindowMs: config.callbacks.retryWindowMs,
    },
    workerId: input.workerId ?? `${hostname()}/${process.pid}/${randomId().slice(0, 8)}`,
    urlPolicy: { mode: config.mode, callbackAllowedHosts: config.callbackAllowedHosts },
    budgets: config.budgets,
    simulated: config.mode === 'zero-setup',
  }
}

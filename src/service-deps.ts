import { EventEmitter } from 'node:events'
import { hostname } from 'node:os'
import type { FastifyBaseLogger } from 'fastify'
import { createCallbackSigner } from './callbacks/signing.js'
import { CAPTION_FINISHED_CHANNEL } from './captions/statuses.js'
import type { Config } from './config.js'
import { listenForNotices } from './db/notices.js'
import { dedicatedClient, type Sql } from './db/pool.js'
import type { ServiceDeps } from './deps.js'
import type { GoapiClient } from './goapi/client.js'
import { type Clock, randomId, systemClock } from './lib/clock.js'
import { countGoapiCalls, createMetrics } from './metrics.js'

/**
 * Builds the service's dependencies once, for the process entry (or a test), to hand to both `buildApp`
 * and `createWorker`.
 */
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

/** The listening connection's name in pg_stat_activity. */
export const NOTICES_APPLICATION_NAME = 'caption-service notices'

export function createServiceDeps(config: Config, input: ServiceDepsInput): ServiceDeps {
  const metrics = createMetrics()
  const wakeSignal = new EventEmitter()
  return {
    sql: input.sql,
    goapi: countGoapiCalls(input.goapi, metrics),
    log: input.log,
    metrics,
    wake: (what = 'finished') => wakeSignal.emit('wake', what),
    onWake: (listener) => {
      wakeSignal.on('wake', listener)
      return () => wakeSignal.off('wake', listener)
    },
    finishedCaptions: listenForNotices({
      channel: CAPTION_FINISHED_CHANNEL,
      connect: () => dedicatedClient(input.sql, NOTICES_APPLICATION_NAME),
      log: input.log,
    }),
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
    exportImageMaxBytes: config.exportImageMaxBytes,
    simulated: config.mode === 'zero-setup',
  }
}

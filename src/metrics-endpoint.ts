import { createHash, timingSafeEqual } from 'node:crypto'
import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify'
import fp from 'fastify-plugin'
import { Gauge } from 'prom-client'
import { Unauthorized } from './api/error-catalog.js'
import { BATCH_CALLBACK_KIND } from './batches/batch-callback-kind.js'
import { countDueCallbacks } from './callbacks/due-callbacks.repository.js'
import { CAPTION_CALLBACK_KIND } from './captions/caption-callback-kind.js'
import { type CaptionGauges, readCaptionGauges } from './captions/gauges.repository.js'
import { OPEN_STATUSES } from './captions/statuses.js'
import type { Sql } from './db/pool.js'
import type { Clock } from './lib/clock.js'
import type { Metrics } from './metrics.js'

export interface MetricsPluginOptions {
  metrics: Metrics
  sql: Sql
  deadlineMs: number
  clock: Clock
  /** How long the database gauges are served from the last reading before they are read again. */
  refreshMs: number
  /** METRICS_TOKEN: the bearer token a scrape must present; undefined lets any scrape in. */
  token: string | undefined
}

/**
 * `GET /metrics` (no caller token; METRICS_TOKEN when the operator sets one), the HTTP figures of every
 * answer, and captions still in motion by status, read from the database at most every `refreshMs` by
 * one statement, which concurrent scrapes share.
 */
export const metricsPlugin = fp(
  async (app: FastifyInstance, options: MetricsPluginOptions) => {
    const { metrics, sql, deadlineMs } = options
    const gauges = cachedReading(() => readGauges(sql), options)
    new Gauge({
      name: 'caption_captions_open',
      help: 'Captions not finished yet, by status (read from the database at most every METRICS_REFRESH_SECONDS)',
      labelNames: ['status'] as const,
      registers: [metrics.registry],
      async collect() {
        const { open } = await gauges()
        this.reset()
        for (const status of OPEN_STATUSES) this.set({ status }, open[status])
      },
    })
    new Gauge({
      name: 'caption_oldest_open_caption_age_seconds',
      help:
        'Seconds since the oldest caption not finished yet was first sent to GoAPI, when its deadline ' +
        'started (captions waiting for a task slot do not count; 0 when none)',
      registers: [metrics.registry],
      async collect() {
        const { sinceOldestDeadline } = await gauges()
        // deadline_at is set deadlineMs after the first send.
        this.set(sinceOldestDeadline === null ? 0 : Math.max(0, sinceOldestDeadline + deadlineMs / 1000))
      },
    })
    new Gauge({
      name: 'caption_work_due',
      help:
        'Background work due now that no replica has taken yet, by kind (step: a resubmission or a poll; ' +
        'slot: a caption waiting for a free GoAPI task slot; callback)',
      labelNames: ['kind'] as const,
      registers: [metrics.registry],
      async collect() {
        const { due } = await gauges()
        this.set({ kind: 'step' }, due.steps)
        this.set({ kind: 'slot' }, due.slots)
        this.set({ kind: 'callback' }, due.callbacks)
      },
    })
    // A plain callback: an async hook would cost every request a promise for work that never waits.
    app.addHook('onResponse', (request, reply, done) => {
      const route = request.routeOptions.url ?? 'unmatched'
      const caller = request.caller || 'anonymous'
      metrics.httpRequests.inc({
        route,
        method: request.method,
        status_code: String(reply.statusCode),
        caller,
      })
      metrics.httpDurations.observe({ route, method: request.method }, reply.elapsedTime / 1000)
      done()
    })
    // Never shed: a scrape costs a cached reading, and an overloaded replica is when it matters most.
    const notShed = { pressureHandler: () => undefined }
    const checkToken = scrapeTokenCheck(options.token)
    app.get(
      '/metrics',
      {
        schema: { hide: true },
        config: notShed,
      },
      async (request, reply) => {
        checkToken(request, reply)
        return reply.type(metrics.registry.contentType).send(await metrics.registry.metrics())
      },
    )
  },
  { name: 'metrics' },
)

/** Every kind of subject a callback tells of, for the count of those due. */
const CALLBACK_KINDS = [CAPTION_CALLBACK_KIND, BATCH_CALLBACK_KIND]

type Gauges = CaptionGauges & { due: { callbacks: number } }

/** What /metrics reads from the database: the captions' gauges and the callbacks due, side by side. */
async function readGauges(sql: Sql): Promise<Gauges> {
  const [captions, callbacks] = await Promise.all([
    readCaptionGauges(sql),
    countDueCallbacks(sql, CALLBACK_KINDS),
  ])
  return { ...captions, due: { ...captions.due, callbacks } }
}

/**
 * `read` at most once per `refreshMs`, one reading at a time: callers within the interval get the last
 * value, and callers while a reading is under way wait for that one. A failed reading is not kept.
 */
export function cachedReading(
  read: () => Promise<Gauges>,
  options: { clock: Clock; refreshMs: number },
): () => Promise<Gauges> {
  let last: { value: Gauges; at: number } | undefined
  let reading: Promise<Gauges> | undefined
  return () => {
    if (last && options.clock.now().getTime() - last.at < options.refreshMs)
      return Promise.resolve(last.value)
    reading ??= read()
      .then((value) => {
        last = { value, at: options.clock.now().getTime() }
        return value
      })
      .finally(() => {
        reading = undefined
      })
    return reading
  }
}

const digest = (token: string) => createHash('sha256').update(token).digest()
const BEARER = /^Bearer +([\x21-\x7e]+) *$/i

/** Admits only `Authorization: Bearer <METRICS_TOKEN>`, compared in constant time; anyone without a token. */
function scrapeTokenCheck(token: string | undefined) {
  const expected = token === undefined ? undefined : digest(token)
  return (request: FastifyRequest, reply: FastifyReply): void => {
    if (expected === undefined) return
    const presented = BEARER.exec(request.headers.authorization ?? '')?.[1]
    if (presented !== undefined && timingSafeEqual(digest(presented), expected)) return
    reply.header('www-authenticate', 'Bearer realm="caption-service metrics"')
    throw new Unauthorized('/metrics needs the METRICS_TOKEN: Authorization: Bearer <token>')
  }
}

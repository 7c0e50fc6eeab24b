import { createHash, timingSafeEqual } from 'node:crypto'
import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify'
import fp from 'fastify-plugin'
import { Counter, collectDefaultMetrics, Gauge, Histogram, Registry } from 'prom-client'
import { Unauthorized } from './api/error-catalog.js'
import { type CaptionGauges, readCaptionGauges } from './captions/gauges.repository.js'
import { OPEN_STATUSES } from './captions/statuses.js'
import type { Sql } from './db/pool.js'
import type { GoapiClient } from './goapi/client.js'
import type { Clock } from './lib/clock.js'

export interface Metrics {
  registry: Registry
  httpRequests: Counter<'route' | 'method' | 'status_code' | 'caller'>
  httpDurations: Histogram<'route' | 'method'>
  goapiCalls: Counter<'operation' | 'outcome'>
  goapiCallDurations: Histogram<'operation' | 'outcome'>
  webhooks: Counter<'outcome'>
  captionsCreated: Counter
  captionsFinished: Counter<'status' | 'code'>
  callbackDeliveries: Counter<'outcome'>
  callbackDeliveryDurations: Histogram<'outcome'>
}

/**
 * The service's Prometheus metrics, counted where things happen: requests by route, status and caller
 * name (never a token), GoAPI calls by outcome (each `created` is a paid task) and their duration,
 * webhook deliveries by outcome (forged ones included), captions created and finished, and the
 * process's own figures.
 */
export function createMetrics(): Metrics {
  const registry = new Registry()
  collectDefaultMetrics({ register: registry })
  const registers = [registry]
  return {
    registry,
    httpRequests: new Counter({
      name: 'caption_http_requests_total',
      help: 'HTTP requests answered, by route, method, status code and caller',
      labelNames: ['route', 'method', 'status_code', 'caller'] as const,
      registers,
    }),
    httpDurations: new Histogram({
      name: 'caption_http_request_duration_seconds',
      help: 'Time to answer HTTP requests, by route and method',
      labelNames: ['route', 'method'] as const,
      buckets: [0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10],
      registers,
    }),
    goapiCalls: new Counter({
      name: 'caption_goapi_calls_total',
      help: 'Calls to GoAPI by operation (create, get) and outcome; create/created is a paid task',
      labelNames: ['operation', 'outcome'] as const,
      registers,
    }),
    goapiCallDurations: new Histogram({
      name: 'caption_goapi_call_duration_seconds',
      help: 'Time GoAPI calls took, by operation (create, get) and outcome',
      labelNames: ['operation', 'outcome'] as const,
      buckets: [0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30],
      registers,
    }),
    webhooks: new Counter({
      name: 'caption_webhooks_total',
      help: 'GoAPI webhook deliveries, by outcome: applied, unchanged, unknown_task, unauthorized (a wrong or missing secret), invalid (not a task update)',
      labelNames: ['outcome'] as const,
      registers,
    }),
    captionsCreated: new Counter({
      name: 'caption_captions_created_total',
      help: 'Captions accepted (an idempotent replay is not a new caption)',
      registers,
    }),
    callbackDeliveries: new Counter({
      name: 'caption_callback_deliveries_total',
      help: "Attempts to deliver a callback event (a caption's or a batch's), by outcome (delivered, failed, gone, refused: the URL no longer allowed)",
      labelNames: ['outcome'] as const,
      registers,
    }),
    callbackDeliveryDurations: new Histogram({
      name: 'caption_callback_delivery_duration_seconds',
      help: "Time a caller's endpoint took to answer a callback attempt, by outcome",
      labelNames: ['outcome'] as const,
      buckets: [0.01, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10],
      registers,
    }),
    captionsFinished: new Counter({
      name: 'caption_captions_finished_total',
      help: 'Captions that reached a final status, by status and error code (empty when completed), reused ones included: at rest, created = finished + open',
      labelNames: ['status', 'code'] as const,
      registers,
    }),
  }
}

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
    const gauges = cachedReading(() => readCaptionGauges(sql), options)
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
    app.addHook('onResponse', async (request, reply) => {
      const route = request.routeOptions.url ?? 'unmatched'
      const caller = request.caller || 'anonymous'
      metrics.httpRequests.inc({
        route,
        method: request.method,
        status_code: String(reply.statusCode),
        caller,
      })
      metrics.httpDurations.observe({ route, method: request.method }, reply.elapsedTime / 1000)
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

/**
 * `read` at most once per `refreshMs`, one reading at a time: callers within the interval get the last
 * value, and callers while a reading is under way wait for that one. A failed reading is not kept.
 */
export function cachedReading(
  read: () => Promise<CaptionGauges>,
  options: { clock: Clock; refreshMs: number },
): () => Promise<CaptionGauges> {
  let last: { value: CaptionGauges; at: number } | undefined
  let reading: Promise<CaptionGauges> | undefined
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

/** The same client, counting every call's outcome. */
export function countGoapiCalls(client: GoapiClient, metrics: Metrics): GoapiClient {
  const count = (operation: string, outcome: string, started: number) => {
    metrics.goapiCalls.inc({ operation, outcome })
    metrics.goapiCallDurations.observe({ operation, outcome }, (performance.now() - started) / 1000)
  }
  return {
    async createTask(input) {
      const started = performance.now()
      const outcome = await client.createTask(input)
      count('create', outcome.kind, started)
      return outcome
    },
    async getTask(taskId) {
      const started = performance.now()
      const outcome = await client.getTask(taskId)
      count('get', outcome.kind, started)
      return outcome
    },
    close: () => client.close(),
  }
}

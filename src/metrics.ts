import { Counter, collectDefaultMetrics, Histogram, Registry } from 'prom-client'
import type { GoapiClient } from './goapi/client.js'

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
  pruned: Counter<'table'>
}

/**
 * The service's Prometheus metrics, counted where things happen: requests by route, status and caller
 * name (never a token), GoAPI calls by outcome (each `created` is a paid task) and their duration,
 * webhook deliveries by outcome (forged ones included), captions created and finished, and the
 * process's own figures. The gauges read from the database are added by the /metrics endpoint
 * (metrics-endpoint.ts).
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
    pruned: prunedCounter(registers),
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

/** Every table the retention sweep prunes shows 0 from the start, so that rate() has a series to read. */
function prunedCounter(registers: Registry[]): Counter<'table'> {
  const counter = new Counter({
    name: 'caption_pruned_total',
    help: 'Rows the retention sweep deleted (RETENTION_DAYS), by table',
    labelNames: ['table'] as const,
    registers,
  })
  for (const table of ['captions', 'batches', 'callback_events', 'callback_deliveries'])
    counter.inc({ table }, 0)
  return counter
}

import { randomUUID } from 'node:crypto'
import { STATUS_CODES } from 'node:http'
import type { AddressInfo } from 'node:net'
import Fastify, { type FastifyInstance, type FastifyReply, type FastifyServerOptions } from 'fastify'
import { Agent, request } from 'undici'
import { z } from 'zod'
import { JOYCAPTION_MODEL, JOYCAPTION_TASK_TYPE } from '../goapi/task.js'
import { createStateSaver, readSimulatorState, type StateSaver } from './state-file.js'

/** Switches for GoAPI's misbehaviours. Rates are chances from 0 to 1, drawn per create or per delivery. */
export interface SimulatorFaults {
  /** Delay before answering `POST /api/v1/task`. */
  createLatencyMs: number
  /** Chance a create answers `createFailureStatus` and creates nothing. */
  createFailureRate: number
  /** 429 carries `Retry-After: 1`; every fault answer has GoAPI's `{ code, message }` body. */
  createFailureStatus: number
  /** Chance a create is recorded (and billed, and runs) but its HTTP answer never comes. */
  createHangRate: number
  dropWebhookRate: number
  duplicateWebhookRate: number
  /** After the terminal webhook, send the task's stale `pending` delivery again. */
  reorderWebhooks: boolean
  /** Chance a task stays `processing` forever. */
  neverFinishRate: number
  failTaskRate: number
  /** Time between pending -> processing -> completed/failed. */
  stepDelayMs: number
}

const rate = z.number().min(0).max(1)
const milliseconds = z.number().int().min(0)

export const simulatorFaultsSchema = z.strictObject({
  createLatencyMs: milliseconds,
  createFailureRate: rate,
  createFailureStatus: z.number().int().min(400).max(599),
  createHangRate: rate,
  dropWebhookRate: rate,
  duplicateWebhookRate: rate,
  reorderWebhooks: z.boolean(),
  neverFinishRate: rate,
  failTaskRate: rate,
  stepDelayMs: milliseconds,
}) satisfies z.ZodType<SimulatorFaults>

export const DEFAULT_SIMULATOR_FAULTS: Readonly<SimulatorFaults> = Object.freeze({
  createLatencyMs: 0,
  createFailureRate: 0,
  createFailureStatus: 503,
  createHangRate: 0,
  dropWebhookRate: 0,
  duplicateWebhookRate: 0,
  reorderWebhooks: false,
  neverFinishRate: 0,
  failTaskRate: 0,
  stepDelayMs: 300,
})

export interface SimulatorOptions {
  /** The only `x-api-key` accepted; anything else gets 401. */
  apiKey: string
  faults?: Partial<SimulatorFaults>
  /** Drawn only for rates strictly between 0 and 1, so rates of 0 and 1 never depend on it. */
  random?: () => number
  logger?: FastifyServerOptions['logger']
  now?: () => Date
  /** Pauses between webhook tries; one try more than pauses (default 200 ms, 400 ms: three tries). */
  webhookRetryDelaysMs?: readonly number[]
  /** Per webhook try, for headers and for body (default 10 s). */
  webhookTimeoutMs?: number
  /**
   * Keeps the tasks across restarts: read at creation, written shortly after a task changes and on
   * close. Without it the tasks live in memory only.
   */
  stateFile?: string
  /**
   * Pause before the unfinished tasks read from `stateFile` move on (default 2 s), so a service started
   * together with the simulator is listening by the time their webhooks come.
   */
  resumeAfterMs?: number
}

export type SimulatedStatus = 'pending' | 'processing' | 'completed' | 'failed'
export type SimulatedOutcome = 'completed' | 'failed'
export type SimulatedFate = 'complete' | 'fail' | 'never-finish'

/** The task object exactly as GoAPI's docs and fixtures show it. */
export interface SimulatedGoapiTask {
  task_id: string
  model: string
  task_type: string
  status: SimulatedStatus
  config: { service_mode: string; webhook_config: { endpoint: string; secret: string } }
  input: { image: string; prompt_style: string; caption_length: string }
  output: { text: string } | null
  meta: {
    created_at: string
    started_at: string
    ended_at: string
    usage: { type: 'llm'; frozen: number; consume: number }
    is_using_private_pool: boolean
    failover_triggered?: boolean
  }
  detail: null
  logs: unknown[] | null
  error: { code: number; raw_message: string; message: string; detail: null }
}

/** One task GoAPI would bill for, with what happened around it. */
export interface SimulatedTask {
  /** The live task, as `GET /api/v1/task/:id` answers it. */
  readonly task: SimulatedGoapiTask
  /** Decided at creation from the faults then in force. */
  readonly fate: SimulatedFate
  /** False when the create was held back by `createHangRate`: the caller never heard of this task. */
  readonly createAnswered: boolean
  readonly getRequests: number
  /** Webhook POSTs tried, including retries and duplicates. */
  readonly webhookAttempts: number
  /** Webhook POSTs answered with a 2xx. */
  readonly webhookDeliveries: number
  /** Deliveries skipped on purpose by `dropWebhookRate`. */
  readonly webhooksDropped: number
}

export interface SimulatorCounters {
  createRequests: number
  /** Creates answered with `createFailureStatus`. */
  createFaults: number
  createHangs: number
  getRequests: number
  unauthorized: number
  badRequests: number
  /** Times `stateFile` was written. */
  stateWrites: number
}

export interface SimulatorSummary {
  tasks: number
  byStatus: Record<SimulatedStatus, number>
  unansweredCreates: number
  webhooks: { attempts: number; delivered: number; dropped: number }
  counters: SimulatorCounters
}

export interface GoapiSimulator {
  readonly app: FastifyInstance
  /** Mutable at run time; the next create or delivery sees the change. */
  readonly faults: SimulatorFaults
  /** Every task created, keyed by task id. */
  readonly tasks: ReadonlyMap<string, SimulatedTask>
  readonly counters: Readonly<SimulatorCounters>
  /** Resolves to the base URL, e.g. `http://127.0.0.1:12345` (defaults: 127.0.0.1, a free port). */
  listen(options?: { host?: string; port?: number }): Promise<string>
  /** Ends a task now (default `completed`) and sends its webhook; a terminal task is left as it is. */
  finishTask(taskId: string, outcome?: SimulatedOutcome): SimulatedGoapiTask
  /** Loses a task, as GoAPI does when it purges one: get-task answers 404 for it from then on. */
  forgetTask(taskId: string): boolean
  summary(): SimulatorSummary
  /** Stops timers, webhook deliveries and retries, held sockets and the server. */
  close(): Promise<void>
}

/** Times GoAPI has not reached yet are Go's zero time, not null. */
export const GO_ZERO_TIME = '0001-01-01T00:00:00Z'

const TERMINAL: readonly SimulatedStatus[] = ['completed', 'failed']

const isHttpUrl = (value: string) => URL.canParse(value) && /^https?:$/.test(new URL(value).protocol)
const HTTP_URL_ERROR = 'must be an absolute http(s) URL'

const createBodySchema = z.object(
  {
    model: z.literal(JOYCAPTION_MODEL, { error: `must be "${JOYCAPTION_MODEL}"` }),
    task_type: z.literal(JOYCAPTION_TASK_TYPE, { error: `must be "${JOYCAPTION_TASK_TYPE}"` }),
    input: z.object(
      {
        image: z.string({ error: HTTP_URL_ERROR }).refine(isHttpUrl, { error: HTTP_URL_ERROR }),
        prompt_style: z.string({ error: 'must be a string' }).default('Descriptive'),
        caption_length: z.string({ error: 'must be a string' }).default('any'),
      },
      { error: 'must be an object' },
    ),
    config: z
      .object(
        {
          service_mode: z.string({ error: 'must be a string' }).default(''),
          webhook_config: z
            .object(
              {
                endpoint: z
                  .string({ error: 'must be a string' })
                  .refine((value) => value === '' || isHttpUrl(value), {
                    error: `must be empty or ${HTTP_URL_ERROR}`,
                  })
                  .default(''),
                secret: z.string({ error: 'must be a string' }).default(''),
              },
              { error: 'must be an object' },
            )
            .optional(),
        },
        { error: 'must be an object' },
      )
      .optional(),
  },
  { error: 'the body must be a JSON object' },
)
type CreateBody = z.infer<typeof createBodySchema>

interface TaskRecord {
  task: SimulatedGoapiTask
  fate: SimulatedFate
  createAnswered: boolean
  getRequests: number
  webhookAttempts: number
  webhookDeliveries: number
  webhooksDropped: number
}

/** State file writes are coalesced over this long. */
const STATE_WRITE_DELAY_MS = 100

export function createGoapiSimulator(options: SimulatorOptions): GoapiSimulator {
  if (options.apiKey === '') throw new Error('the GoAPI simulator needs a non-empty apiKey')
  const faults: SimulatorFaults = simulatorFaultsSchema.parse({
    ...DEFAULT_SIMULATOR_FAULTS,
    ...options.faults,
  })
  const random = options.random ?? Math.random
  const now = options.now ?? (() => new Date())
  const retryDelaysMs = options.webhookRetryDelaysMs ?? [200, 400]
  const webhookTimeoutMs = options.webhookTimeoutMs ?? 10_000
  const records = new Map<string, TaskRecord>()
  const stalePending = new Map<string, SimulatedGoapiTask>()
  const stepTimers = new Map<string, NodeJS.Timeout>()
  const deliveryChains = new Map<string, Promise<void>>()
  // Each timer with what to do if close() cancels it before it fires.
  const timers = new Map<NodeJS.Timeout, () => void>()
  const counters: SimulatorCounters = {
    createRequests: 0,
    createFaults: 0,
    createHangs: 0,
    getRequests: 0,
    unauthorized: 0,
    badRequests: 0,
    stateWrites: 0,
  }
  const webhookAgent = new Agent({
    connect: { timeout: 5_000 },
    headersTimeout: webhookTimeoutMs,
    bodyTimeout: webhookTimeoutMs,
  })
  // Closing must not wait for sockets the hang fault holds open on purpose.
  const app = Fastify({ logger: options.logger ?? false, forceCloseConnections: true })
  let closing: Promise<void> | undefined
  const carriedOver = options.stateFile ? readSimulatorState(options.stateFile, now()) : []
  for (const { webhookInterrupted: _, ...record } of carriedOver) records.set(record.task.task_id, record)
  const saver = options.stateFile ? stateSaver(options.stateFile) : undefined
  // Tasks whose webhook close() cut off on its way: kept in the state file until it is sent again.
  const interrupted = new Set(
    carriedOver.filter((stored) => stored.webhookInterrupted).map((stored) => stored.task.task_id),
  )

  function stateSaver(file: string): StateSaver {
    return createStateSaver({
      file,
      delayMs: STATE_WRITE_DELAY_MS,
      tasks: () =>
        [...records.values()].map((record) => ({
          ...record,
          webhookInterrupted: interrupted.has(record.task.task_id),
        })),
      onWritten: () => {
        counters.stateWrites += 1
      },
      onError: (error) => app.log.error({ err: error, file }, 'GoAPI simulator state not written'),
    })
  }

  function chance(probability: number): boolean {
    if (probability <= 0) return false
    if (probability >= 1) return true
    return random() < probability
  }

  function schedule(ms: number, run: () => void, onCancel: () => void = () => {}): NodeJS.Timeout {
    const timer = setTimeout(() => {
      timers.delete(timer)
      run()
    }, ms)
    timer.unref()
    timers.set(timer, onCancel)
    return timer
  }

  /** Resolves true after `ms`, or false as soon as the simulator closes. */
  function wait(ms: number): Promise<boolean> {
    return new Promise((resolve) => {
      if (closing) resolve(false)
      else
        schedule(
          ms,
          () => resolve(true),
          () => resolve(false),
        )
    })
  }

  function cancelTimer(timer: NodeJS.Timeout | undefined) {
    if (timer === undefined) return
    clearTimeout(timer)
    timers.delete(timer)
  }

  function startTask(body: CreateBody): TaskRecord {
    const task: SimulatedGoapiTask = {
      task_id: randomUUID(),
      model: body.model,
      task_type: body.task_type,
      status: 'pending',
      config: {
        service_mode: body.config?.service_mode ?? '',
        webhook_config: {
          endpoint: body.config?.webhook_config?.endpoint ?? '',
          secret: body.config?.webhook_config?.secret ?? '',
        },
      },
      input: {
        image: body.input.image,
        prompt_style: body.input.prompt_style,
        caption_length: body.input.caption_length,
      },
      output: null,
      meta: {
        created_at: goTime(now()),
        started_at: GO_ZERO_TIME,
        ended_at: GO_ZERO_TIME,
        usage: { type: 'llm', frozen: 0, consume: 100_000 },
        is_using_private_pool: false,
      },
      detail: null,
      logs: [],
      error: { code: 0, raw_message: '', message: '', detail: null },
    }
    const fate = chance(faults.neverFinishRate)
      ? 'never-finish'
      : chance(faults.failTaskRate)
        ? 'fail'
        : 'complete'
    const record: TaskRecord = {
      task,
      fate,
      createAnswered: true,
      getRequests: 0,
      webhookAttempts: 0,
      webhookDeliveries: 0,
      webhooksDropped: 0,
    }
    records.set(task.task_id, record)
    saver?.changed()
    stalePending.set(task.task_id, structuredClone(task))
    notify(record)
    scheduleNextStep(record)
    return record
  }

  function scheduleNextStep(record: TaskRecord) {
    const id = record.task.task_id
    stepTimers.set(
      id,
      schedule(faults.stepDelayMs, () => {
        stepTimers.delete(id)
        advance(record)
      }),
    )
  }

  function advance(record: TaskRecord) {
    const { task } = record
    if (task.status === 'pending') {
      task.status = 'processing'
      task.meta.started_at = goTime(now())
      saver?.changed()
      notify(record)
      if (record.fate !== 'never-finish') scheduleNextStep(record)
    } else if (task.status === 'processing') {
      finish(record, record.fate === 'fail' ? 'failed' : 'completed')
    }
  }

  function finish(record: TaskRecord, outcome: SimulatedOutcome) {
    const { task } = record
    if (TERMINAL.includes(task.status)) return
    cancelTimer(stepTimers.get(task.task_id))
    stepTimers.delete(task.task_id)
    const endedAt = goTime(now())
    if (task.meta.started_at === GO_ZERO_TIME) task.meta.started_at = endedAt
    task.status = outcome
    task.meta.ended_at = endedAt
    task.meta.failover_triggered = false
    // GoAPI's documented completed webhook carries `logs: null`; parsers must take both forms.
    task.logs = null
    if (outcome === 'completed') {
      task.output = { text: simulatedCaption(task.input) }
    } else {
      task.output = null
      task.error = {
        code: 10000,
        raw_message: `simulated failure: the joycaption worker could not caption ${task.input.image}`,
        message: 'simulated failure: the image could not be captioned',
        detail: null,
      }
    }
    saver?.changed()
    notify(record)
    const stale = stalePending.get(task.task_id)
    stalePending.delete(task.task_id)
    if (faults.reorderWebhooks && stale) notify(record, stale)
  }

  /** Queues a webhook for the task's current state (or `snapshot`), after its earlier deliveries. */
  function notify(record: TaskRecord, snapshot: SimulatedGoapiTask = structuredClone(record.task)) {
    const { endpoint, secret } = snapshot.config.webhook_config
    if (endpoint === '' || closing) return
    if (chance(faults.dropWebhookRate)) {
      record.webhooksDropped += 1
      return
    }
    const copies = chance(faults.duplicateWebhookRate) ? 2 : 1
    const body = JSON.stringify({ timestamp: Math.floor(now().getTime() / 1000), data: snapshot })
    const id = snapshot.task_id
    const previous = deliveryChains.get(id) ?? Promise.resolve()
    const chain = previous
      .then(async () => {
        for (let copy = 0; copy < copies; copy += 1) await deliver(record, endpoint, secret, body)
      })
      .catch((error: unknown) =>
        app.log.error({ err: error, taskId: id }, 'simulated webhook delivery crashed'),
      )
    deliveryChains.set(id, chain)
    void chain.then(() => {
      if (deliveryChains.get(id) === chain) deliveryChains.delete(id)
    })
  }

  async function deliver(record: TaskRecord, endpoint: string, secret: string, body: string) {
    for (let attempt = 0; !closing; attempt += 1) {
      record.webhookAttempts += 1
      if (await post(endpoint, secret, body)) {
        record.webhookDeliveries += 1
        return
      }
      const pause = retryDelaysMs[attempt]
      if (pause === undefined || !(await wait(pause))) break
    }
    // GoAPI does not promise delivery: after the last try the webhook is simply lost.
    app.log.warn({ taskId: record.task.task_id }, 'simulated webhook not delivered')
  }

  async function post(endpoint: string, secret: string, body: string): Promise<boolean> {
    try {
      const response = await request(endpoint, {
        method: 'POST',
        dispatcher: webhookAgent,
        headers: { 'content-type': 'application/json', 'x-webhook-secret': secret },
        body,
      })
      await response.body.dump()
      return response.statusCode >= 200 && response.statusCode < 300
    } catch {
      return false
    }
  }

  function summary(): SimulatorSummary {
    const byStatus: Record<SimulatedStatus, number> = { pending: 0, processing: 0, completed: 0, failed: 0 }
    const webhooks = { attempts: 0, delivered: 0, dropped: 0 }
    let unansweredCreates = 0
    for (const record of records.values()) {
      byStatus[record.task.status] += 1
      webhooks.attempts += record.webhookAttempts
      webhooks.delivered += record.webhookDeliveries
      webhooks.dropped += record.webhooksDropped
      if (!record.createAnswered) unansweredCreates += 1
    }
    return { tasks: records.size, byStatus, unansweredCreates, webhooks, counters: { ...counters } }
  }

  function finishTask(taskId: string, outcome: SimulatedOutcome = 'completed'): SimulatedGoapiTask {
    const record = records.get(taskId)
    if (!record) throw new Error(`the GoAPI simulator has no task ${taskId}`)
    finish(record, outcome)
    return structuredClone(record.task)
  }

  function forgetTask(taskId: string): boolean {
    if (!records.delete(taskId)) return false
    cancelTimer(stepTimers.get(taskId))
    stepTimers.delete(taskId)
    stalePending.delete(taskId)
    saver?.changed()
    return true
  }

  /** Tasks read from the state file carry on where the previous run left them. */
  function resume() {
    for (const { task, fate, webhookInterrupted } of carriedOver) {
      const id = task.task_id
      const running = task.status === 'pending' || (task.status === 'processing' && fate !== 'never-finish')
      if (!running && !webhookInterrupted) continue
      schedule(options.resumeAfterMs ?? 2_000, () => {
        const record = records.get(id)
        if (record === undefined) return
        if (interrupted.delete(id)) notify(record)
        if (running && !TERMINAL.includes(record.task.status)) scheduleNextStep(record)
      })
    }
  }

  app.setErrorHandler((error: { statusCode?: number; message?: string }, _request, reply) => {
    const status = error.statusCode !== undefined && error.statusCode >= 400 ? error.statusCode : 500
    if (status === 400) counters.badRequests += 1
    return reply
      .code(status)
      .send(goapiError(status, status < 500 ? (error.message ?? '') : 'internal error'))
  })
  app.setNotFoundHandler((request, reply) =>
    reply.code(404).send(goapiError(404, `no route for ${request.method} ${request.url.split('?')[0]}`)),
  )

  void app.register(async (api) => {
    api.addHook('onRequest', async (request, reply) => {
      if (request.headers['x-api-key'] === options.apiKey) return
      counters.unauthorized += 1
      return reply.code(401).send(goapiError(401, 'invalid or missing x-api-key'))
    })

    api.post('/api/v1/task', async (request, reply) => {
      counters.createRequests += 1
      if (faults.createLatencyMs > 0 && !(await wait(faults.createLatencyMs))) {
        return reply.code(503).send(goapiError(503, 'the simulator is shutting down'))
      }
      if (chance(faults.createFailureRate)) {
        counters.createFaults += 1
        return sendCreateFault(reply, faults.createFailureStatus)
      }
      const body = createBodySchema.safeParse(request.body)
      if (!body.success) {
        counters.badRequests += 1
        return reply.code(400).send(goapiError(400, describeIssues(body.error)))
      }
      const record = startTask(body.data)
      if (chance(faults.createHangRate)) {
        record.createAnswered = false
        counters.createHangs += 1
        // Hijacked: the socket stays open with no answer until the caller gives up or close() runs.
        reply.hijack()
        return reply
      }
      return envelope(structuredClone(record.task))
    })

    api.get<{ Params: { id: string } }>('/api/v1/task/:id', async (request, reply) => {
      counters.getRequests += 1
      const record = records.get(request.params.id)
      if (!record) return reply.code(404).send(goapiError(404, 'task not found'))
      record.getRequests += 1
      return envelope(record.task)
    })

    api.get('/_sim/tasks', async () => summary())
    api.get('/_sim/faults', async () => faults)
    api.patch('/_sim/faults', async (request, reply) => {
      const patch = simulatorFaultsSchema.partial().safeParse(request.body)
      if (!patch.success) return reply.code(400).send(goapiError(400, describeIssues(patch.error)))
      return Object.assign(faults, patch.data)
    })
    api.post<{ Params: { id: string } }>('/_sim/tasks/:id/finish', async (request, reply) => {
      const outcome = z
        .object({ outcome: z.enum(['completed', 'failed']).default('completed') })
        .safeParse(request.body ?? {})
      if (!outcome.success) return reply.code(400).send(goapiError(400, describeIssues(outcome.error)))
      if (!records.has(request.params.id)) return reply.code(404).send(goapiError(404, 'task not found'))
      return envelope(finishTask(request.params.id, outcome.data.outcome))
    })
    api.delete<{ Params: { id: string } }>('/_sim/tasks/:id', async (request, reply) => {
      if (!forgetTask(request.params.id)) return reply.code(404).send(goapiError(404, 'task not found'))
      return reply.code(204).send()
    })
  })

  async function shutDown() {
    for (const id of deliveryChains.keys()) interrupted.add(id)
    for (const [timer, onCancel] of timers) {
      clearTimeout(timer)
      onCancel()
    }
    timers.clear()
    stepTimers.clear()
    await webhookAgent.destroy()
    await Promise.all(deliveryChains.values())
    await app.close()
    await saver?.close()
  }

  resume()

  return {
    app,
    faults,
    tasks: records,
    counters,
    async listen({ host = '127.0.0.1', port = 0 } = {}) {
      await app.listen({ host, port })
      const address = app.server.address() as AddressInfo
      return `http://${urlHost(host)}:${address.port}`
    },
    finishTask,
    forgetTask,
    summary,
    close() {
      closing ??= shutDown()
      return closing
    },
  }
}

function sendCreateFault(reply: FastifyReply, status: number) {
  if (status === 429) reply.header('retry-after', '1')
  return reply.code(status).send(goapiError(status, `simulated fault: ${STATUS_CODES[status] ?? 'error'}`))
}

function envelope(task: SimulatedGoapiTask) {
  return { code: 200, data: task, message: 'success' }
}

function goapiError(code: number, message: string) {
  return { code, message }
}

function describeIssues(error: z.ZodError): string {
  const issues = error.issues.map((issue) =>
    issue.path.length === 0 ? issue.message : `${issue.path.join('.')} ${issue.message}`,
  )
  return `invalid request: ${issues.join('; ')}`
}

function simulatedCaption(input: SimulatedGoapiTask['input']): string {
  return `[simulated caption] A ${input.prompt_style} caption (length: ${input.caption_length}) of ${input.image}`
}

/** Go's RFC3339Nano: fractional seconds with trailing zeros trimmed. */
function goTime(date: Date): string {
  return date.toISOString().replace(/\.?0+Z$/, 'Z')
}

function urlHost(host: string): string {
  if (host === '0.0.0.0' || host === '') return '127.0.0.1'
  if (host === '::') return '[::1]'
  return host.includes(':') ? `[${host}]` : host
}

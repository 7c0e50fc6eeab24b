import type { AddressInfo } from 'node:net'
import Fastify, { type FastifyInstance, type FastifyServerOptions } from 'fastify'
import {
  createChance,
  DEFAULT_SIMULATOR_FAULTS,
  type SimulatorFaults,
  simulatorFaultsSchema,
} from './faults.js'
import { type ApiCounters, registerSimulatorRoutes } from './routes.js'
import { createStateSaver, readSimulatorState, type StateSaver } from './state-file.js'
import {
  type CreateBody,
  decideFate,
  endTask,
  isRunning,
  isTerminal,
  newTaskRecord,
  outcomeOf,
  type SimulatedGoapiTask,
  type SimulatedOutcome,
  type SimulatedStatus,
  type SimulatedTask,
  startProcessing,
  type TaskRecord,
} from './tasks.js'
import { createWebhookSender } from './webhook-sender.js'

export { DEFAULT_SIMULATOR_FAULTS, type SimulatorFaults, simulatorFaultsSchema } from './faults.js'
export {
  GO_ZERO_TIME,
  type SimulatedFate,
  type SimulatedGoapiTask,
  type SimulatedOutcome,
  type SimulatedStatus,
  type SimulatedTask,
} from './tasks.js'

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

export interface SimulatorCounters extends ApiCounters {
  /** Times `stateFile` was written. */
  stateWrites: number
  /** Tasks created and not finished yet. */
  unfinished: number
  /** The most tasks that were unfinished at once: what an account's concurrency limit is held to. */
  peakUnfinished: number
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

/** State file writes are coalesced over this long. */
const STATE_WRITE_DELAY_MS = 100

export function createGoapiSimulator(options: SimulatorOptions): GoapiSimulator {
  if (options.apiKey === '') throw new Error('the GoAPI simulator needs a non-empty apiKey')
  const faults: SimulatorFaults = simulatorFaultsSchema.parse({
    ...DEFAULT_SIMULATOR_FAULTS,
    ...options.faults,
  })
  const chance = createChance(options.random ?? Math.random)
  const now = options.now ?? (() => new Date())
  const records = new Map<string, TaskRecord>()
  const stepTimers = new Map<string, NodeJS.Timeout>()
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
    unfinished: 0,
    peakUnfinished: 0,
  }
  // Closing must not wait for sockets the hang fault holds open on purpose.
  const app = Fastify({ logger: options.logger ?? false, forceCloseConnections: true })
  let closing: Promise<void> | undefined
  const carriedOver = options.stateFile ? readSimulatorState(options.stateFile, now()) : []
  for (const { webhookInterrupted: _, ...record } of carriedOver) {
    records.set(record.task.task_id, record)
    if (!isTerminal(record.task.status)) counters.unfinished += 1
  }
  counters.peakUnfinished = counters.unfinished
  const webhooks = createWebhookSender({
    faults,
    chance,
    now,
    retryDelaysMs: options.webhookRetryDelaysMs ?? [200, 400],
    timeoutMs: options.webhookTimeoutMs ?? 10_000,
    wait,
    isClosing: () => closing !== undefined,
    log: app.log,
    // Kept in the state file until they are sent again.
    interrupted: carriedOver
      .filter((stored) => stored.webhookInterrupted)
      .map((stored) => stored.task.task_id),
  })
  const saver = options.stateFile ? stateSaver(options.stateFile) : undefined

  function stateSaver(file: string): StateSaver {
    return createStateSaver({
      file,
      delayMs: STATE_WRITE_DELAY_MS,
      tasks: () =>
        [...records.values()].map((record) => ({
          ...record,
          webhookInterrupted: webhooks.isInterrupted(record.task.task_id),
        })),
      onWritten: () => {
        counters.stateWrites += 1
      },
      onError: (error) => app.log.error({ err: error, file }, 'GoAPI simulator state not written'),
    })
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

  function cancelStep(taskId: string) {
    const timer = stepTimers.get(taskId)
    stepTimers.delete(taskId)
    if (timer === undefined) return
    clearTimeout(timer)
    timers.delete(timer)
  }

  function startTask(body: CreateBody): TaskRecord {
    const record = newTaskRecord(body, decideFate(faults, chance), now())
    records.set(record.task.task_id, record)
    counters.unfinished += 1
    counters.peakUnfinished = Math.max(counters.peakUnfinished, counters.unfinished)
    saver?.changed()
    webhooks.sendCreated(record)
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
      startProcessing(task, now())
      saver?.changed()
      webhooks.send(record)
      if (record.fate !== 'never-finish') scheduleNextStep(record)
    } else if (task.status === 'processing') {
      finish(record, outcomeOf(record.fate))
    }
  }

  function finish(record: TaskRecord, outcome: SimulatedOutcome) {
    if (isTerminal(record.task.status)) return
    cancelStep(record.task.task_id)
    endTask(record.task, outcome, now())
    counters.unfinished -= 1
    saver?.changed()
    webhooks.sendFinal(record)
  }

  function summary(): SimulatorSummary {
    const byStatus: Record<SimulatedStatus, number> = { pending: 0, processing: 0, completed: 0, failed: 0 }
    const webhookCounts = { attempts: 0, delivered: 0, dropped: 0 }
    let unansweredCreates = 0
    for (const record of records.values()) {
      byStatus[record.task.status] += 1
      webhookCounts.attempts += record.webhookAttempts
      webhookCounts.delivered += record.webhookDeliveries
      webhookCounts.dropped += record.webhooksDropped
      if (!record.createAnswered) unansweredCreates += 1
    }
    return {
      tasks: records.size,
      byStatus,
      unansweredCreates,
      webhooks: webhookCounts,
      counters: { ...counters },
    }
  }

  function finishTask(taskId: string, outcome: SimulatedOutcome = 'completed'): SimulatedGoapiTask {
    const record = records.get(taskId)
    if (!record) throw new Error(`the GoAPI simulator has no task ${taskId}`)
    finish(record, outcome)
    return structuredClone(record.task)
  }

  function forgetTask(taskId: string): boolean {
    if (!records.delete(taskId)) return false
    cancelStep(taskId)
    webhooks.forget(taskId)
    saver?.changed()
    return true
  }

  /** Tasks read from the state file carry on where the previous run left them. */
  function resume() {
    for (const { task, fate, webhookInterrupted } of carriedOver) {
      const id = task.task_id
      const running = isRunning(task, fate)
      if (!running && !webhookInterrupted) continue
      schedule(options.resumeAfterMs ?? 2_000, () => {
        const record = records.get(id)
        if (record === undefined) return
        webhooks.resendInterrupted(record)
        if (running && !isTerminal(record.task.status)) scheduleNextStep(record)
      })
    }
  }

  registerSimulatorRoutes(app, {
    apiKey: options.apiKey,
    faults,
    counters,
    tasks: records,
    chance,
    wait,
    startTask,
    finishTask,
    forgetTask,
    summary,
  })

  async function shutDown() {
    for (const [timer, onCancel] of timers) {
      clearTimeout(timer)
      onCancel()
    }
    timers.clear()
    stepTimers.clear()
    await webhooks.close()
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

function urlHost(host: string): string {
  if (host === '0.0.0.0' || host === '') return '127.0.0.1'
  if (host === '::') return '[::1]'
  return host.includes(':') ? `[${host}]` : host
}

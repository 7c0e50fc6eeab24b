import type { FastifyBaseLogger } from 'fastify'
import { Agent, request } from 'undici'
import type { Chance, SimulatorFaults } from './faults.js'
import type { SimulatedGoapiTask, TaskRecord } from './tasks.js'

export interface WebhookSenderOptions {
  /** Read at each delivery, so a change at run time applies to the next one. */
  faults: SimulatorFaults
  chance: Chance
  now: () => Date
  /** Pauses between tries; one try more than pauses. */
  retryDelaysMs: readonly number[]
  /** Per try, for headers and for body. */
  timeoutMs: number
  /** Resolves true after `ms`, or false as soon as the simulator closes. */
  wait: (ms: number) => Promise<boolean>
  isClosing: () => boolean
  log: FastifyBaseLogger
  /** Tasks whose webhook the previous run cut off on its way (read from the state file). */
  interrupted: Iterable<string>
}

/**
 * GoAPI's webhooks: one ordered queue per task, each delivery tried again after a pause when the receiver
 * does not take it, and the drop, duplicate and reorder faults applied on the way.
 */
export interface WebhookSender {
  /** Sends the new task's `pending` webhook, and keeps it to send again, stale, if reordering is on. */
  sendCreated(record: TaskRecord): void
  /** Queues a webhook for the task's current state, after its earlier deliveries. */
  send(record: TaskRecord): void
  /** Sends the terminal webhook, then the stale `pending` one if reordering is on. */
  sendFinal(record: TaskRecord): void
  /** Sends the task's state again if its last webhook was cut off by a stop; false if it was not. */
  resendInterrupted(record: TaskRecord): boolean
  /** Whether a stop cut off the task's webhook and it still waits to be sent again. */
  isInterrupted(taskId: string): boolean
  forget(taskId: string): void
  /**
   * Marks the tasks with deliveries under way as interrupted, cuts their sockets and waits for their
   * queues to end. Their pauses end with the simulator's timers, which the caller stops first.
   */
  close(): Promise<void>
}

export function createWebhookSender(options: WebhookSenderOptions): WebhookSender {
  const { faults, chance, now, retryDelaysMs, wait, isClosing, log } = options
  const stalePending = new Map<string, SimulatedGoapiTask>()
  const deliveryChains = new Map<string, Promise<void>>()
  const interrupted = new Set(options.interrupted)
  const agent = new Agent({
    connect: { timeout: 5_000 },
    headersTimeout: options.timeoutMs,
    bodyTimeout: options.timeoutMs,
  })

  /** Queues a webhook for the task's current state (or `snapshot`), after its earlier deliveries. */
  function notify(record: TaskRecord, snapshot: SimulatedGoapiTask = structuredClone(record.task)) {
    const { endpoint, secret } = snapshot.config.webhook_config
    if (endpoint === '' || isClosing()) return
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
      .catch((error: unknown) => log.error({ err: error, taskId: id }, 'simulated webhook delivery crashed'))
    deliveryChains.set(id, chain)
    void chain.then(() => {
      if (deliveryChains.get(id) === chain) deliveryChains.delete(id)
    })
  }

  async function deliver(record: TaskRecord, endpoint: string, secret: string, body: string) {
    for (let attempt = 0; !isClosing(); attempt += 1) {
      record.webhookAttempts += 1
      if (await post(endpoint, secret, body)) {
        record.webhookDeliveries += 1
        return
      }
      const pause = retryDelaysMs[attempt]
      if (pause === undefined || !(await wait(pause))) break
    }
    // GoAPI does not promise delivery: after the last try the webhook is simply lost.
    log.warn({ taskId: record.task.task_id }, 'simulated webhook not delivered')
  }

  async function post(endpoint: string, secret: string, body: string): Promise<boolean> {
    try {
      const response = await request(endpoint, {
        method: 'POST',
        dispatcher: agent,
        headers: { 'content-type': 'application/json', 'x-webhook-secret': secret },
        body,
      })
      await response.body.dump()
      return response.statusCode >= 200 && response.statusCode < 300
    } catch {
      return false
    }
  }

  return {
    sendCreated(record) {
      stalePending.set(record.task.task_id, structuredClone(record.task))
      notify(record)
    },
    send(record) {
      notify(record)
    },
    sendFinal(record) {
      notify(record)
      const stale = stalePending.get(record.task.task_id)
      stalePending.delete(record.task.task_id)
      if (faults.reorderWebhooks && stale) notify(record, stale)
    },
    resendInterrupted(record) {
      if (!interrupted.delete(record.task.task_id)) return false
      notify(record)
      return true
    },
    isInterrupted(taskId) {
      return interrupted.has(taskId)
    },
    forget(taskId) {
      stalePending.delete(taskId)
    },
    async close() {
      for (const id of deliveryChains.keys()) interrupted.add(id)
      await agent.destroy()
      await Promise.all(deliveryChains.values())
    },
  }
}

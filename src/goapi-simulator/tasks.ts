import { randomUUID } from 'node:crypto'
import { z } from 'zod'
import { JOYCAPTION_MODEL, JOYCAPTION_TASK_TYPE } from '../goapi/task.js'
import type { Chance, SimulatorFaults } from './faults.js'

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

/** A simulated task as the simulator itself keeps and changes it. */
export interface TaskRecord {
  task: SimulatedGoapiTask
  fate: SimulatedFate
  createAnswered: boolean
  getRequests: number
  webhookAttempts: number
  webhookDeliveries: number
  webhooksDropped: number
}

/** Times GoAPI has not reached yet are Go's zero time, not null. */
export const GO_ZERO_TIME = '0001-01-01T00:00:00Z'

const TERMINAL: readonly SimulatedStatus[] = ['completed', 'failed']

export function isTerminal(status: SimulatedStatus): boolean {
  return TERMINAL.includes(status)
}

/** Whether the task still has steps to take by itself (a task fated never to finish stops at processing). */
export function isRunning(task: SimulatedGoapiTask, fate: SimulatedFate): boolean {
  return task.status === 'pending' || (task.status === 'processing' && fate !== 'never-finish')
}

const isHttpUrl = (value: string) => URL.canParse(value) && /^https?:$/.test(new URL(value).protocol)
const HTTP_URL_ERROR = 'must be an absolute http(s) URL'

export const createBodySchema = z.object(
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
export type CreateBody = z.infer<typeof createBodySchema>

/** Draws the task's fate from the faults in force when it is created. */
export function decideFate(faults: SimulatorFaults, chance: Chance): SimulatedFate {
  if (chance(faults.neverFinishRate)) return 'never-finish'
  return chance(faults.failTaskRate) ? 'fail' : 'complete'
}

/** A fresh `pending` task for an accepted create. */
export function newTaskRecord(body: CreateBody, fate: SimulatedFate, now: Date): TaskRecord {
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
      created_at: goTime(now),
      started_at: GO_ZERO_TIME,
      ended_at: GO_ZERO_TIME,
      usage: { type: 'llm', frozen: 0, consume: 100_000 },
      is_using_private_pool: false,
    },
    detail: null,
    logs: [],
    error: { code: 0, raw_message: '', message: '', detail: null },
  }
  return {
    task,
    fate,
    createAnswered: true,
    getRequests: 0,
    webhookAttempts: 0,
    webhookDeliveries: 0,
    webhooksDropped: 0,
  }
}

/** pending -> processing. */
export function startProcessing(task: SimulatedGoapiTask, now: Date): void {
  task.status = 'processing'
  task.meta.started_at = goTime(now)
}

/** The outcome a running task reaches by itself, once it is done processing. */
export function outcomeOf(fate: SimulatedFate): SimulatedOutcome {
  return fate === 'fail' ? 'failed' : 'completed'
}

/** pending or processing -> completed (with its caption) or failed (with GoAPI's error). */
export function endTask(task: SimulatedGoapiTask, outcome: SimulatedOutcome, now: Date): void {
  const endedAt = goTime(now)
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
}

export function simulatedCaption(input: SimulatedGoapiTask['input']): string {
  return `[simulated caption] A ${input.prompt_style} caption (length: ${input.caption_length}) of ${input.image}`
}

/** Go's RFC3339Nano: fractional seconds with trailing zeros trimmed. */
export function goTime(date: Date): string {
  return date.toISOString().replace(/\.?0+Z$/, 'Z')
}

import { z } from 'zod'

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

/** Whether a fault with this rate strikes this time. */
export type Chance = (probability: number) => boolean

/** Draws from `random` only for rates strictly between 0 and 1, so rates of 0 and 1 never depend on it. */
export function createChance(random: () => number): Chance {
  return (probability) => {
    if (probability <= 0) return false
    if (probability >= 1) return true
    return random() < probability
  }
}

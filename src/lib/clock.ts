import { randomUUID } from 'node:crypto'

/** Time and identity are injected, so tests can step time and predict ids without sleeping. */
export interface Clock {
  now(): Date
}

export const systemClock: Clock = { now: () => new Date() }

export const randomId = (): string => randomUUID()

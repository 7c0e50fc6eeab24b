import { v7 as uuidv7 } from 'uuid'

/** Time and identity are injected, so tests can step time and predict ids without sleeping. */
export interface Clock {
  now(): Date
}

export const systemClock: Clock = { now: () => new Date() }

/**
 * A new row's id: a UUID version 7 (RFC 9562), its first 48 bits the time in milliseconds and the rest random.
 * Rows made together get ids that sort together, so every index over an id (captions', events', deliveries'
 * primary keys, the columns that point at them) takes each new entry in the few pages it last wrote, rather
 * than in a random page of a table holding a year of history.
 */
export const randomId = (): string => uuidv7()

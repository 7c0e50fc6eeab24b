import { describe, expect, it } from 'vitest'
import {
  CALLBACK_RETRY_DELAYS_MS,
  CALLBACK_RETRY_EVERY_MS,
  nextCallbackAttempt,
} from '../../src/callbacks/schedule.js'

const eventAt = new Date('2026-03-01T12:00:00.000Z')
const DAY_MS = 86_400_000
const sinceEvent = (ms: number) => new Date(eventAt.getTime() + ms)

describe('nextCallbackAttempt', () => {
  it('when the randomness is in the middle, then the waits are 1 s, 5 s, 30 s, 2 min, 10 min, 1 h, then 3 h', () => {
    const waits = [1, 2, 3, 4, 5, 6, 7, 8].map(
      (attempt) =>
        (
          nextCallbackAttempt(attempt, { eventAt, now: eventAt, windowMs: DAY_MS }, () => 0.5) as Date
        ).getTime() - eventAt.getTime(),
    )
    expect(waits).toEqual([1_000, 5_000, 30_000, 120_000, 600_000, 3_600_000, 10_800_000, 10_800_000])
  })

  it('when the randomness is at its ends, then each wait is 20% shorter or longer', () => {
    for (const [index, wait] of [...CALLBACK_RETRY_DELAYS_MS, CALLBACK_RETRY_EVERY_MS].entries()) {
      const timing = { eventAt, now: eventAt, windowMs: DAY_MS }
      expect(nextCallbackAttempt(index + 1, timing, () => 0)?.getTime()).toBe(eventAt.getTime() + wait * 0.8)
      expect(nextCallbackAttempt(index + 1, timing, () => 1)?.getTime()).toBe(eventAt.getTime() + wait * 1.2)
    }
  })

  it('when the next attempt would fall after the retry window, then there is none', () => {
    const now = sinceEvent(DAY_MS - 10_800_000)
    expect(nextCallbackAttempt(9, { eventAt, now, windowMs: DAY_MS }, () => 0.5)).toEqual(sinceEvent(DAY_MS))
    expect(nextCallbackAttempt(9, { eventAt, now, windowMs: DAY_MS }, () => 0.6)).toBeUndefined()
    expect(
      nextCallbackAttempt(1, { eventAt, now: sinceEvent(DAY_MS), windowMs: DAY_MS }, () => 0),
    ).toBeUndefined()
  })

  it('when drawn with real randomness, then the waits spread within ±20%', () => {
    const waits = Array.from(
      { length: 200 },
      () =>
        (nextCallbackAttempt(3, { eventAt, now: eventAt, windowMs: DAY_MS }, Math.random) as Date).getTime() -
        eventAt.getTime(),
    )
    expect(Math.min(...waits)).toBeGreaterThanOrEqual(24_000)
    expect(Math.max(...waits)).toBeLessThanOrEqual(36_000)
    expect(new Set(waits).size).toBeGreaterThan(50)
  })
})

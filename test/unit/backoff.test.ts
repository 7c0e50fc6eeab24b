import { describe, expect, it } from 'vitest'
import { backoffDelay, SUBMIT_RETRY } from '../../src/lib/backoff.js'

describe('backoffDelay', () => {
  const policy = { baseMs: 1_000, factor: 2, maxMs: 10_000 }

  it('when the random part is at its ends, then the delay spans half to all of the exponential ceiling', () => {
    expect(backoffDelay(1, policy, () => 0)).toBe(500)
    expect(backoffDelay(1, policy, () => 1)).toBe(1_000)
    expect(backoffDelay(3, policy, () => 0)).toBe(2_000)
    expect(backoffDelay(3, policy, () => 1)).toBe(4_000)
  })

  it('when attempts pile up, then the delay never passes the cap', () => {
    for (let attempt = 1; attempt < 60; attempt++) {
      expect(backoffDelay(attempt, policy, () => 1)).toBeLessThanOrEqual(10_000)
    }
    expect(backoffDelay(50, policy, () => 0.5)).toBe(7_500)
  })

  it('when the delays are drawn with real randomness, then they spread within their bounds', () => {
    const delays = Array.from({ length: 200 }, () => backoffDelay(2, SUBMIT_RETRY))
    expect(Math.min(...delays)).toBeGreaterThanOrEqual(2_000)
    expect(Math.max(...delays)).toBeLessThanOrEqual(4_000)
    expect(new Set(delays).size).toBeGreaterThan(50)
  })
})

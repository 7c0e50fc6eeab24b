import { describe, expect, it } from 'vitest'
import { perPool } from '../../src/lib/per-pool.js'

describe('perPool', () => {
  it('when a pool is asked for again, then it gets the value made on its first use; another pool gets its own', () => {
    const made: object[] = []
    const counterOf = perPool((pool: object) => {
      made.push(pool)
      return { pool }
    })
    const one = {}
    const other = {}
    const first = counterOf(one)
    expect(counterOf(one)).toBe(first)
    expect(counterOf(other)).not.toBe(first)
    expect(counterOf(other).pool).toBe(other)
    expect(made).toEqual([one, other])
  })
})

import { describe, expect, it } from 'vitest'
import { sharedInFlight } from '../../src/lib/shared-in-flight.js'

describe('sharedInFlight', () => {
  it('when a key is asked for while its reading runs, then both get that reading; another key reads on its own', async () => {
    const reads: string[] = []
    let finish: (value: number) => void = () => {}
    const read = sharedInFlight((key) => {
      reads.push(key)
      return key === 'a' ? new Promise<number>((resolve) => (finish = resolve)) : Promise.resolve(7)
    }, String)
    const first = read('a')
    const second = read('a')
    expect(await read('b')).toBe(7)
    finish(42)
    expect(await Promise.all([first, second])).toEqual([42, 42])
    expect(reads).toEqual(['a', 'b'])
  })

  it('when a reading has settled, then the next ask reads again, and a failed reading is not kept', async () => {
    let calls = 0
    const read = sharedInFlight(async () => {
      calls++
      if (calls === 1) throw new Error('database went away')
      return calls
    }, String)
    await expect(Promise.all([read('a'), read('a')])).rejects.toThrow('database went away')
    expect(await read('a')).toBe(2)
    expect(await read('a')).toBe(3)
    expect(calls).toBe(3)
  })

  it('when two requests have the same key, then the second shares the reading of the first, which read was given', async () => {
    const given: Array<{ caller: string; day: number }> = []
    let finish: (value: string) => void = () => {}
    const read = sharedInFlight(
      (range: { caller: string; day: number }) => {
        given.push(range)
        return new Promise<string>((resolve) => (finish = resolve))
      },
      (range) => `${range.caller}/${range.day}`,
    )
    const first = { caller: 'acme', day: 3 }
    const answers = Promise.all([read(first), read({ caller: 'acme', day: 3 })])
    finish('counted')
    expect(await answers).toEqual(['counted', 'counted'])
    expect(given).toEqual([first])
    expect(given[0]).toBe(first)
  })
})

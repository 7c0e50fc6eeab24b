import { describe, expect, it } from 'vitest'
import { batchWhileRunning } from '../../src/lib/batch-while-running.js'

/** A batch runner whose batches finish when the test says, recording each batch it was given. */
function heldRunner(fail?: (batch: string[]) => boolean) {
  const batches: string[][] = []
  const held: Array<() => void> = []
  const run = (batch: string[]) => {
    batches.push(batch)
    return new Promise<string[]>((resolve, reject) => {
      held.push(() =>
        fail?.(batch)
          ? reject(new Error(`batch ${batch.join(',')} failed`))
          : resolve(batch.map((r) => `${r}!`)),
      )
    })
  }
  /** Lets the oldest running batch finish, then lets the queue start the next. */
  const finishNext = async () => {
    held.shift()?.()
    await new Promise((resolve) => setImmediate(resolve))
  }
  return { run, batches, finishNext }
}

describe('batchWhileRunning', () => {
  it('when requests come while a batch runs, then they go together in one next batch and each gets its own result', async () => {
    const runner = heldRunner()
    const ask = batchWhileRunning(runner.run)
    const first = ask('a')
    const waiting = [ask('b'), ask('c'), ask('b')]
    expect(runner.batches).toEqual([['a']])
    await runner.finishNext()
    expect(runner.batches).toEqual([['a'], ['b', 'c', 'b']])
    await runner.finishNext()
    expect(await first).toBe('a!')
    expect(await Promise.all(waiting)).toEqual(['b!', 'c!', 'b!'])
  })

  it('when a batch fails, then its error reaches every request of that batch only, and the next batch still runs', async () => {
    const runner = heldRunner((batch) => batch.includes('bad'))
    const ask = batchWhileRunning(runner.run)
    const first = ask('a')
    const failing = [ask('bad'), ask('b')].map((answer) => answer.catch((error: Error) => error.message))
    await runner.finishNext()
    const after = ask('c')
    await runner.finishNext()
    await runner.finishNext()
    expect(await first).toBe('a!')
    expect(await Promise.all(failing)).toEqual(['batch bad,b failed', 'batch bad,b failed'])
    expect(await after).toBe('c!')
    expect(runner.batches).toEqual([['a'], ['bad', 'b'], ['c']])
  })

  it('when a batch is full or a request shares its key with one in it, then that request waits for the next, in order', async () => {
    const runner = heldRunner()
    const ask = batchWhileRunning(runner.run, { maxBatch: 2, apartBy: (request) => request[0] })
    const answers = ['a1', 'b1', 'b2', 'c1', 'd1'].map((request) => ask(request))
    for (let i = 0; i < 3; i++) await runner.finishNext()
    expect(runner.batches).toEqual([['a1'], ['b1', 'c1'], ['b2', 'd1']])
    expect(await Promise.all(answers)).toEqual(['a1!', 'b1!', 'b2!', 'c1!', 'd1!'])
  })

  it('when a shared batch fails and each is retried alone, then only the bad request fails', async () => {
    const runner = heldRunner((batch) => batch.includes('bad'))
    const ask = batchWhileRunning(runner.run, { retryEachAlone: true })
    const first = ask('a')
    const answers = ['b', 'bad', 'c'].map((request) => ask(request).catch((error: Error) => error.message))
    for (let i = 0; i < 5; i++) await runner.finishNext()
    expect(await first).toBe('a!')
    expect(await Promise.all(answers)).toEqual(['b!', 'batch bad failed', 'c!'])
    expect(runner.batches).toEqual([['a'], ['b', 'bad', 'c'], ['b'], ['bad'], ['c']])
  })
})

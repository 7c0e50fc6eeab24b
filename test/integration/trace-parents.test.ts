import { randomBytes, randomUUID } from 'node:crypto'
import pg from 'pg'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { createTraceParentReader } from '../../src/tracing/trace-parents.js'
import { createTestDatabase } from '../helpers/database.js'
import { seedCaption } from '../helpers/seed-captions.js'

describe("reading captions' stored traceparents", () => {
  let database: Awaited<ReturnType<typeof createTestDatabase>>
  let pool: pg.Pool

  beforeAll(async () => {
    database = await createTestDatabase()
    pool = new pg.Pool({ connectionString: database.url, max: 4 })
  })
  afterAll(async () => {
    await pool?.end()
    await database?.drop()
  })

  async function seedTraced(): Promise<{ id: string; traceParent: string }> {
    const id = await seedCaption(pool, { caller: 'tracer', createdAt: new Date(), status: 'pending' })
    const traceParent = `00-${randomBytes(16).toString('hex')}-${randomBytes(8).toString('hex')}-01`
    await pool.query('UPDATE captions SET trace_parent = $2 WHERE id = $1', [id, traceParent])
    return { id, traceParent }
  }

  it('when many captions are asked for at once, then each gets its own traceparent from a shared statement, and one without a row or a traceparent gets null', async () => {
    const traced = await Promise.all(Array.from({ length: 5 }, seedTraced))
    const untraced = await seedCaption(pool, { caller: 'tracer', createdAt: new Date(), status: 'pending' })
    let statements = 0
    const counting = new Proxy(pool, {
      get(target, property, receiver) {
        if (property !== 'query') return Reflect.get(target, property, receiver)
        return (...args: Parameters<pg.Pool['query']>) => {
          statements += 1
          return (target.query as (...a: unknown[]) => unknown)(...args)
        }
      },
    })
    const read = createTraceParentReader(counting)

    const asked = [...traced.map((caption) => caption.id), untraced, randomUUID(), traced[0]?.id ?? '']
    const answers = await Promise.all(asked.map((id) => read(id)))

    expect(answers).toEqual([
      ...traced.map((caption) => caption.traceParent),
      null,
      null,
      traced[0]?.traceParent,
    ])
    // The first is read at once; every one asked for while it ran is read together after it.
    expect(statements).toBe(2)
  })
})

import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { type Database, inTransaction, openDatabase } from '../../src/db/pool.js'
import { holdBudget } from '../../src/spend/spend.repository.js'
import { holdFor } from '../../src/spend/spend.service.js'
import { createTestDatabase } from '../helpers/database.js'
import { seedCaption } from '../helpers/seed-captions.js'

const NOW = new Date('2026-11-28T15:30:00Z')
const YESTERDAY = new Date('2026-11-27T22:00:00Z')

/** Budget holds and their give-backs, on one database shared by two pools as by two replicas. */
describe('budget holds', () => {
  let database: Awaited<ReturnType<typeof createTestDatabase>>
  let replicaA: Database
  let replicaB: Database

  beforeAll(async () => {
    database = await createTestDatabase()
    replicaA = openDatabase(database.url)
    replicaB = openDatabase(database.url)
  })
  afterAll(async () => {
    await replicaA?.close()
    await replicaB?.close()
    await database?.drop()
  })

  const spent = async (caller: string, day = '2026-11-28') => {
    const { rows } = await replicaA.sql.query<{ cents: number }>(
      'SELECT cents FROM caller_spend WHERE caller = $1 AND day = $2::date',
      [caller, day],
    )
    return rows[0]?.cents
  }

  it('when many holds race on two pools against one budget, then the total never passes it and each loser is told held: false', async () => {
    const budgetCents = 50
    const asks = Array.from({ length: 80 }, (_, index) => ({
      replica: index % 2 === 0 ? replicaA : replicaB,
      cents: 1 + (index % 3),
    }))
    const results = await Promise.all(
      asks.map(({ replica, cents }) =>
        // As the work that pays does it: the hold and the captions it pays for commit together.
        inTransaction(replica.sql, async (tx) => {
          const hold = await holdBudget(tx, { caller: 'racer', cents, now: NOW, budgetCents })
          if (hold.held)
            await seedCaption(tx, { caller: 'racer', createdAt: NOW, status: 'queued', reservedCents: cents })
          return { cents, hold }
        }),
      ),
    )
    const heldCents = results.filter((r) => r.hold.held).reduce((sum, r) => sum + r.cents, 0)
    const losers = results.flatMap((r) =>
      r.hold.held ? [] : [{ cents: r.cents, spentCents: r.hold.spentCents }],
    )

    expect(await spent('racer')).toBe(heldCents)
    expect(heldCents).toBeLessThanOrEqual(budgetCents)
    expect(losers.length).toBeGreaterThan(0)
    for (const loser of losers) {
      expect(loser.spentCents).toBeLessThanOrEqual(budgetCents)
      expect(loser.spentCents + loser.cents).toBeGreaterThan(budgetCents)
    }
    // Refusals only ever came from a full budget: it filled up to within the largest ask.
    expect(heldCents).toBeGreaterThan(budgetCents - 3)
    const { rows } = await replicaB.sql.query<{ reserved: number }>(
      `SELECT sum(reserved_cents)::int AS reserved FROM captions WHERE caller = 'racer'`,
    )
    expect(rows[0]?.reserved).toBe(heldCents)
  })

  it('when a hold reaches the budget exactly, then it is held, and the next cent is not', async () => {
    const hold = (cents: number) =>
      holdBudget(replicaA.sql, { caller: 'exact', cents, now: NOW, budgetCents: 5 })
    expect(await hold(3)).toEqual({ held: true })
    expect(await hold(2)).toEqual({ held: true })
    expect(await hold(1)).toEqual({ held: false, spentCents: 5 })
    expect(await spent('exact')).toBe(5)
  })

  it('when the first hold of a day is larger than the budget, then nothing is held and nothing was spent', async () => {
    expect(await holdBudget(replicaA.sql, { caller: 'big-ask', cents: 6, now: NOW, budgetCents: 5 })).toEqual(
      {
        held: false,
        spentCents: 0,
      },
    )
    expect(await spent('big-ask')).toBeUndefined()
  })

  it('when the work that held cents is rolled back, then its hold is gone with it', async () => {
    await holdBudget(replicaA.sql, { caller: 'undone', cents: 2, now: NOW, budgetCents: 10 })
    await expect(
      inTransaction(replicaB.sql, async (tx) => {
        await holdBudget(tx, { caller: 'undone', cents: 3, now: NOW, budgetCents: 10 })
        throw new Error('the insert of the captions failed')
      }),
    ).rejects.toThrow('the insert of the captions failed')
    expect(await spent('undone')).toBe(2)
  })

  it('when holds fall on different UTC days, then each day counts against its own budget', async () => {
    await holdBudget(replicaA.sql, { caller: 'daily', cents: 5, now: YESTERDAY, budgetCents: 5 })
    expect(await holdBudget(replicaA.sql, { caller: 'daily', cents: 5, now: NOW, budgetCents: 5 })).toEqual({
      held: true,
    })
    expect(await spent('daily', '2026-11-27')).toBe(5)
    expect(await spent('daily', '2026-11-28')).toBe(5)
  })

  describe('holdFor', () => {
    const deps = { budgets: new Map([['team-a', 500]]) }

    it('when the caller has no budget or the work costs nothing, then nothing is held', async () => {
      await holdFor(deps, replicaA.sql, 'unlimited', 1000, NOW)
      await holdFor(deps, replicaA.sql, 'team-a', 0, NOW)
      expect(await spent('unlimited')).toBeUndefined()
      expect(await spent('team-a')).toBeUndefined()
    })

    it('when the work does not fit, then budget_exceeded says the budget, the spend and the ask in dollars', async () => {
      await holdFor(deps, replicaA.sql, 'team-a', 499, NOW)
      const refusal = holdFor(deps, replicaA.sql, 'team-a', 2, NOW)
      await expect(refusal).rejects.toMatchObject({
        statusCode: 402,
        code: 'BUDGET_EXCEEDED',
        message: 'daily budget of $5.00 for caller "team-a" exceeded: $4.99 spent today, $0.02 asked',
      })
      await holdFor(deps, replicaA.sql, 'team-a', 1, NOW)
      expect(await spent('team-a')).toBe(500)
    })
  })

  describe("a caption's end", () => {
    /** A caption of `caller` created at `createdAt` holding `reserved` cents, as accepted work leaves it. */
    async function heldCaption(caller: string, createdAt: Date, reserved: number, goapiTasks = 0) {
      await holdBudget(replicaA.sql, { caller, cents: reserved, now: createdAt, budgetCents: 100 })
      return seedCaption(replicaA.sql, {
        caller,
        createdAt,
        status: 'pending',
        reservedCents: reserved,
        goapiTasks,
      })
    }
    const setCaption = (id: string, assignments: string) =>
      replicaB.sql.query(`UPDATE captions SET ${assignments}, updated_at = $2 WHERE id = $1`, [id, NOW])

    it('when a caption that held a cent fails before GoAPI took a task, then the cent is given back', async () => {
      await holdBudget(replicaA.sql, { caller: 'giver', cents: 4, now: NOW, budgetCents: 100 })
      const id = await heldCaption('giver', NOW, 1)
      expect(await spent('giver')).toBe(5)
      await setCaption(id, `status = 'failed', error_code = 'goapi_rejected', error_message = 'refused'`)
      expect(await spent('giver')).toBe(4)
    })

    it('when a caption completes by reuse with no task, then its cent is given back', async () => {
      const id = await heldCaption('reuser', NOW, 1)
      await setCaption(id, `status = 'completed', caption = 'text', reused_from = gen_random_uuid()`)
      expect(await spent('reuser')).toBe(0)
    })

    it('when a caption paid its task, then finishing it gives nothing back', async () => {
      const id = await heldCaption('payer', NOW, 1, 1)
      await setCaption(id, `status = 'completed', caption = 'text'`)
      expect(await spent('payer')).toBe(1)
    })

    it('when a caption is resent (a second task), then the extra cent is added, and its end gives nothing back', async () => {
      const id = await heldCaption('resender', NOW, 1, 1)
      await setCaption(id, 'goapi_tasks = 2')
      expect(await spent('resender')).toBe(2)
      await setCaption(id, `status = 'failed', error_code = 'timeout', error_message = 'late'`)
      expect(await spent('resender')).toBe(2)
    })

    it('when its task is counted only after the caption ended, then the cent given back at the end is charged again', async () => {
      const id = await heldCaption('late-count', NOW, 1)
      await setCaption(id, `status = 'completed', caption = 'text'`)
      expect(await spent('late-count')).toBe(0)
      await setCaption(id, 'goapi_tasks = 1')
      expect(await spent('late-count')).toBe(1)
      await setCaption(id, 'goapi_tasks = 2')
      expect(await spent('late-count')).toBe(2)
    })

    it("when a caption accepted yesterday ends today, then yesterday's spend gets the cent back", async () => {
      const id = await heldCaption('overnight', YESTERDAY, 1)
      await holdBudget(replicaA.sql, { caller: 'overnight', cents: 3, now: NOW, budgetCents: 100 })
      await setCaption(id, `status = 'failed', error_code = 'timeout', error_message = 'late'`)
      expect(await spent('overnight', '2026-11-27')).toBe(0)
      expect(await spent('overnight', '2026-11-28')).toBe(3)
    })
  })
})

import { randomUUID } from 'node:crypto'
import pg from 'pg'
import { afterEach, beforeEach, describe, expect, it } from 'vitest'
import {
  insertCaption,
  insertCaptionTakingSlot,
  type NewCaption,
} from '../../src/captions/caption-rows.repository.js'
import { setSlotCount, takeFreeSlots } from '../../src/captions/slots.repository.js'
import { createTestDatabase } from '../helpers/database.js'
import { eventually } from '../helpers/service.js'

// GoAPI task slots on real PostgreSQL: several pools stand for several replicas taking slots at once.

const NOW = new Date('2026-12-06T12:00:00Z')
const LATER = new Date('2026-12-06T12:05:00Z')

let database: { url: string; drop: () => Promise<void> }
let pools: pg.Pool[]
const pool = (): pg.Pool => {
  const created = new pg.Pool({ connectionString: database.url, max: 5 })
  pools.push(created)
  return created
}

beforeEach(async () => {
  database = await createTestDatabase()
  pools = []
})
afterEach(async () => {
  await Promise.all(pools.map((each) => each.end()))
  await database.drop()
})

function toSend(caller = 'alice'): NewCaption {
  return {
    id: randomUUID(),
    caller,
    imageUrl: 'https://images.example.com/slots/cat.png',
    promptStyle: 'Descriptive',
    captionLength: 'any',
    callbackUrl: undefined,
    metadata: {},
    now: NOW,
    start: { kind: 'send', lease: { owner: 'replica-a', until: LATER }, deadlineAt: LATER },
    reuse: false,
    reservedCents: 0,
    simulated: false,
  }
}

async function insertWaiting(sql: pg.Pool, caller: string, createdAt: Date): Promise<string> {
  const caption = { ...toSend(caller), now: createdAt, start: { kind: 'wait' as const } }
  return (await insertCaptionTakingSlot(sql, caption)).id
}

const claim = (max: number, limit = 20) => ({
  owner: 'replica-b',
  now: NOW,
  leaseUntil: LATER,
  deadlineAt: LATER,
  limit,
  maxConcurrency: max,
})

/** Captions holding a slot, and the slot rows: both must agree. */
async function slotState(sql: pg.Pool) {
  const holding = await sql.query<{ id: string }>(
    `SELECT id FROM captions WHERE status IN ('queued', 'pending', 'processing')
      AND submit_state IN ('in_flight', 'ambiguous', 'accepted') ORDER BY id`,
  )
  const rows = await sql.query<{ slot: number; caption_id: string | null }>(
    'SELECT slot, caption_id FROM goapi_slots ORDER BY slot',
  )
  const held = rows.rows.filter((row) => row.caption_id !== null)
  return {
    holding: holding.rows.map((row) => row.id),
    heldIds: held.map((row) => row.caption_id as string).sort(),
    inCap: rows.rows.filter((row) => row.slot > 0).length,
    heldInCap: held.filter((row) => row.slot > 0).length,
    beyond: held.filter((row) => row.slot < 0).length,
  }
}

describe('GoAPI task slots', () => {
  it('when five replicas create 60 captions at once under a cap of 7, then exactly 7 are sent and every slot row matches a caption holding it', async () => {
    const replicas = Array.from({ length: 5 }, pool)
    await setSlotCount(replicas[0] as pg.Pool, 7)
    const rows = await Promise.all(
      Array.from({ length: 60 }, (_, index) =>
        insertCaptionTakingSlot(replicas[index % 5] as pg.Pool, toSend()),
      ),
    )
    expect(rows.filter((row) => row.submitState === 'in_flight')).toHaveLength(7)
    const waiting = rows.filter((row) => row.submitState === 'not_sent')
    expect(waiting).toHaveLength(53)
    expect(waiting.every((row) => row.leaseOwner === null && row.deadlineAt === null)).toBe(true)
    const state = await slotState(replicas[0] as pg.Pool)
    expect(state.heldIds).toEqual(state.holding)
    expect(state).toMatchObject({ heldInCap: 7, beyond: 0 })
  })

  it('when a creation holds a slot in an open transaction, then another creation takes the next slot without waiting for it', async () => {
    const sql = pool()
    await setSlotCount(sql, 3)
    const holder = await sql.connect()
    try {
      await holder.query('BEGIN')
      await insertCaptionTakingSlot(holder, toSend())
      const other = await sql.connect()
      try {
        // A global lock would make this wait for the open transaction, and fail after the timeout.
        await other.query("SET lock_timeout = '1s'")
        const row = await insertCaptionTakingSlot(other, toSend())
        expect(row.submitState).toBe('in_flight')
      } finally {
        await other.query('RESET lock_timeout')
        other.release()
      }
    } finally {
      await holder.query('ROLLBACK')
      holder.release()
    }
  })

  it('when replicas take free slots for waiting captions at once, then never more than the cap are sent, and each caller gets its turn', async () => {
    const replicas = Array.from({ length: 4 }, pool)
    const first = replicas[0] as pg.Pool
    await setSlotCount(first, 5)
    for (let index = 0; index < 12; index += 1)
      await insertWaiting(first, 'alice', new Date(NOW.getTime() - 60_000 + index))
    const bobs = await insertWaiting(first, 'bob', NOW)
    const taken = (await Promise.all(replicas.map((sql) => takeFreeSlots(sql, claim(5))))).flat()
    expect(taken).toHaveLength(5)
    expect(taken.map((row) => row.id)).toContain(bobs)
    const state = await slotState(first)
    expect(state.heldIds).toEqual(state.holding)
    expect(state.heldInCap).toBe(5)
    expect(await takeFreeSlots(first, claim(5))).toEqual([])
  })

  it("when a replica sends waiting captions of several callers, then it takes their turns' rows in caller order, whatever its plan", async () => {
    const callers = ['alice', 'bob', 'carol', 'dave', 'erin', 'frank']
    const setup = pool()
    await setSlotCount(setup, 10)
    for (const [index, caller] of callers.entries())
      await insertWaiting(setup, caller, new Date(NOW.getTime() - 60_000 + index))
    await setup.query(
      `INSERT INTO caller_turns (caller, last_sent_at) SELECT unnest($1::text[]), $2::timestamptz`,
      [callers, new Date(NOW.getTime() - 3_600_000)],
    )
    // A replica whose plan groups by hash (its cached plan may, where another replica's sorts).
    const replica = new pg.Pool({ connectionString: database.url, max: 1, options: '-c enable_sort=off' })
    pools.push(replica)
    const replicaPid = (await replica.query<{ pid: number }>('SELECT pg_backend_pid() AS pid')).rows[0]?.pid
    // The first caller's turn is held elsewhere: the replica waits for it, holding what it took before.
    const holder = await setup.connect()
    const heldAhead: string[] = []
    try {
      await holder.query('BEGIN')
      await holder.query(`SELECT 1 FROM caller_turns WHERE caller = 'alice' FOR UPDATE`)
      const sending = takeFreeSlots(replica, claim(10))
      await eventually(async () => {
        const { rows } = await setup.query(
          `SELECT 1 FROM pg_stat_activity WHERE pid = $1 AND wait_event_type = 'Lock'`,
          [replicaPid],
        )
        return rows.length > 0 ? true : undefined
      })
      for (const caller of callers.slice(1)) {
        const probe = await setup.connect()
        try {
          await probe.query('BEGIN')
          await probe.query('SELECT 1 FROM caller_turns WHERE caller = $1 FOR UPDATE NOWAIT', [caller])
        } catch (error) {
          if ((error as { code?: string }).code !== '55P03') throw error
          heldAhead.push(caller)
        } finally {
          await probe.query('ROLLBACK')
          probe.release()
        }
      }
      await holder.query('ROLLBACK')
      expect(await sending).toHaveLength(callers.length)
    } finally {
      holder.release()
    }
    expect(heldAhead).toEqual([])
  })

  it('when a caption finishes, fails, is canceled, is refused or is erased, then its slot is free again; one with no clear answer keeps it', async () => {
    const sql = pool()
    await setSlotCount(sql, 6)
    const ids = (
      await Promise.all(Array.from({ length: 6 }, () => insertCaptionTakingSlot(sql, toSend())))
    ).map((row) => row.id)
    const [completed, failed, canceled, refused, erased, ambiguous] = ids
    await sql.query(`UPDATE captions SET status = 'completed' WHERE id = $1`, [completed])
    await sql.query(`UPDATE captions SET status = 'failed' WHERE id = $1`, [failed])
    await sql.query(`UPDATE captions SET status = 'canceled' WHERE id = $1`, [canceled])
    await sql.query(`UPDATE captions SET submit_state = 'refused' WHERE id = $1`, [refused])
    await sql.query('DELETE FROM captions WHERE id = $1', [erased])
    await sql.query(`UPDATE captions SET submit_state = 'ambiguous' WHERE id = $1`, [ambiguous])
    const state = await slotState(sql)
    expect(state.heldIds).toEqual([ambiguous])
    expect(state.heldInCap).toBe(1)
    const next = await Promise.all(Array.from({ length: 6 }, () => insertCaptionTakingSlot(sql, toSend())))
    expect(next.filter((row) => row.submitState === 'in_flight')).toHaveLength(5)
  })

  it('when the cap is lowered below the tasks running, then no slot is given until fewer than the new cap run, and raising it frees slots again', async () => {
    const sql = pool()
    await setSlotCount(sql, 5)
    const running = await Promise.all(Array.from({ length: 5 }, () => insertCaptionTakingSlot(sql, toSend())))
    for (let index = 0; index < 5; index += 1) await insertWaiting(sql, 'bob', NOW)

    await setSlotCount(sql, 3)
    expect(await slotState(sql)).toMatchObject({ inCap: 3, heldInCap: 3, beyond: 2 })
    // Two of the five end: three still run, which is the new cap.
    for (const row of running.slice(0, 2))
      await sql.query(`UPDATE captions SET status = 'completed' WHERE id = $1`, [row.id])
    expect(await slotState(sql)).toMatchObject({ heldInCap: 3, beyond: 0 })
    expect(await takeFreeSlots(sql, claim(3))).toEqual([])
    expect((await insertCaptionTakingSlot(sql, toSend())).submitState).toBe('not_sent')
    await sql.query(`UPDATE captions SET status = 'completed' WHERE id = $1`, [running[2]?.id])
    expect(await takeFreeSlots(sql, claim(3))).toHaveLength(1)

    await setSlotCount(sql, 6)
    expect(await takeFreeSlots(sql, claim(6))).toHaveLength(3)
    const state = await slotState(sql)
    expect(state.heldIds).toEqual(state.holding)
    expect(state).toMatchObject({ inCap: 6, heldInCap: 6, beyond: 0 })
  })

  it('when captions held slots before the cap was set (or with no cap), then setting it counts them first, oldest in the cap', async () => {
    const sql = pool()
    await setSlotCount(sql, 0)
    // Without a cap a caption is inserted as being sent, with no slot to take.
    const before = await Promise.all(Array.from({ length: 4 }, () => insertCaption(sql, toSend())))
    expect(before.every((row) => row.submitState === 'in_flight')).toBe(true)
    expect((await sql.query('SELECT count(*)::int AS n FROM goapi_slots')).rows[0].n).toBe(0)

    await setSlotCount(sql, 3)
    let state = await slotState(sql)
    expect(state.heldIds).toEqual(state.holding)
    expect(state).toMatchObject({ heldInCap: 3, beyond: 1 })
    expect((await insertCaptionTakingSlot(sql, toSend())).submitState).toBe('not_sent')
    await sql.query(`UPDATE captions SET status = 'failed' WHERE id = $1`, [before[0]?.id])
    state = await slotState(sql)
    expect(state).toMatchObject({ heldInCap: 3, beyond: 0 })
    expect(state.heldIds).toEqual(state.holding)
  })
})

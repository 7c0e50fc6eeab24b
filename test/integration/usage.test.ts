import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { holdFor } from '../../src/spend/spend.service.js'
import { expectErrorReply } from '../helpers/http.js'
import { type SeededCaption, seedCaption } from '../helpers/seed-captions.js'
import { manualClock, startTestService, type TestService } from '../helpers/service.js'

/** Each scenario has a caller of its own, so no count depends on another test's rows. */
const TOKENS = {
  ranger: 'ranger-token-0123456789',
  intruder: 'intruder-token-0123456789',
  today: 'today-token-0123456789',
  budgeted: 'budgeted-token-0123456789',
  fresh: 'fresh-token-0123456789',
  overrun: 'overrun-token-0123456789',
} as const
type Caller = keyof typeof TOKENS

const NOW = new Date('2026-11-28T15:30:00Z')
const at = (instant: string) => new Date(instant)

describe('GET /usage', () => {
  let service: TestService
  const clock = manualClock(NOW)

  beforeAll(async () => {
    service = await startTestService({
      env: {
        AUTH_DISABLED: 'false',
        API_TOKENS: Object.entries(TOKENS)
          .map(([caller, token]) => `${caller}:${token}`)
          .join(','),
        CALLER_BUDGETS: 'budgeted:5,fresh:0.50,overrun:0.10',
      },
      clock,
    })
  })
  afterAll(async () => {
    await service?.close()
  })

  const usage = (caller: Caller | undefined, query = '') =>
    service.app.inject({
      method: 'GET',
      url: `/usage${query}`,
      headers: caller ? { authorization: `Bearer ${TOKENS[caller]}` } : {},
    })
  const seed = (caller: Caller, createdAt: string, more: Omit<SeededCaption, 'caller' | 'createdAt'> = {}) =>
    seedCaption(service.deps.sql, { caller, createdAt: at(createdAt), ...more })

  it("when captions were created in and around the range, then only the caller's own from `from` up to (not at) `to` are counted", async () => {
    await seed('ranger', '2026-11-27T23:59:59.999Z', { goapiTasks: 1 })
    const paid = await seed('ranger', '2026-11-28T00:00:00.000Z', { goapiTasks: 1 })
    await seed('ranger', '2026-11-28T08:00:00Z', { goapiTasks: 0, reusedFrom: paid })
    await seed('ranger', '2026-11-28T09:00:00Z', { status: 'failed', goapiTasks: 0 })
    await seed('ranger', '2026-11-28T10:00:00Z', { status: 'failed', goapiTasks: 2 })
    await seed('ranger', '2026-11-28T23:59:59.999Z', { status: 'pending', goapiTasks: 1 })
    await seed('ranger', '2026-11-29T00:00:00.000Z', { goapiTasks: 2 })
    await seed('intruder', '2026-11-28T12:00:00Z', { goapiTasks: 5, status: 'failed' })

    const reply = await usage('ranger', '?from=2026-11-28&to=2026-11-29')
    expect(reply.statusCode).toBe(200)
    expect(reply.json()).toEqual({
      from: '2026-11-28T00:00:00.000Z',
      to: '2026-11-29T00:00:00.000Z',
      captions: 5,
      reused: 1,
      failed: 2,
      goapiTasks: 4,
      costUsd: 0.04,
      budget: null,
    })

    const later = await usage('ranger', '?from=2026-11-28T00:00:00.001Z&to=2026-11-28T10:00:00Z')
    expect(later.json()).toMatchObject({ captions: 2, reused: 1, failed: 1, goapiTasks: 0, costUsd: 0 })
    const offset = await usage(
      'ranger',
      `?from=${encodeURIComponent('2026-11-28T01:00:00+01:00')}&to=${encodeURIComponent('2026-11-28T05:00:00-05:00')}`,
    )
    expect(offset.json()).toMatchObject({
      from: '2026-11-28T00:00:00.000Z',
      to: '2026-11-28T10:00:00.000Z',
      captions: 3,
      goapiTasks: 1,
    })
    expect((await usage('ranger', '?from=2026-11-28&to=2026-11-28')).json()).toMatchObject({
      captions: 0,
      goapiTasks: 0,
      costUsd: 0,
    })
    expect((await usage('intruder', '?from=2026-11-28&to=2026-11-29')).json()).toMatchObject({
      captions: 1,
      failed: 1,
      goapiTasks: 5,
      costUsd: 0.05,
    })
  })

  it('when many tasks were paid, then costUsd is their cents in dollars, without rounding drift', async () => {
    for (let index = 0; index < 37; index++) await seed('intruder', '2026-11-20T12:00:00Z', { goapiTasks: 1 })
    expect((await usage('intruder', '?from=2026-11-20&to=2026-11-21')).json()).toMatchObject({
      captions: 37,
      goapiTasks: 37,
      costUsd: 0.37,
    })
  })

  it('when from or to is left out, then each defaults to its end of the current UTC day', async () => {
    await seed('today', '2026-11-27T23:00:00Z', { goapiTasks: 1 })
    await seed('today', '2026-11-28T00:00:00Z', { goapiTasks: 1 })
    await seed('today', '2026-11-28T15:00:00Z', { goapiTasks: 2 })
    await seed('today', '2026-11-29T00:00:00Z', { goapiTasks: 4 })

    expect((await usage('today')).json()).toEqual({
      from: '2026-11-28T00:00:00.000Z',
      to: '2026-11-29T00:00:00.000Z',
      captions: 2,
      reused: 0,
      failed: 0,
      goapiTasks: 3,
      costUsd: 0.03,
      budget: null,
    })
    expect((await usage('today', '?from=2026-11-28T12:00:00Z')).json()).toMatchObject({
      to: '2026-11-29T00:00:00.000Z',
      goapiTasks: 2,
    })
    expect((await usage('today', '?to=2026-11-28T12:00:00Z')).json()).toMatchObject({
      from: '2026-11-28T00:00:00.000Z',
      goapiTasks: 1,
    })
  })

  it('when the caller has a budget, then it shows the budget, what today holds and what is left; other days do not count', async () => {
    await holdFor(service.deps, service.deps.sql, 'budgeted', 400, at('2026-11-27T20:00:00Z'))
    await holdFor(service.deps, service.deps.sql, 'budgeted', 120, NOW)
    await holdFor(service.deps, service.deps.sql, 'budgeted', 3, at('2026-11-28T00:00:00Z'))

    expect((await usage('budgeted')).json()).toMatchObject({
      captions: 0,
      budget: { dailyUsd: 5, spentTodayUsd: 1.23, remainingUsd: 3.77 },
    })
    // The budget is about the current day whatever the range asked about.
    expect((await usage('budgeted', '?from=2026-11-27&to=2026-11-28')).json()).toMatchObject({
      budget: { spentTodayUsd: 1.23 },
    })
    expect((await usage('fresh')).json()).toMatchObject({
      budget: { dailyUsd: 0.5, spentTodayUsd: 0, remainingUsd: 0.5 },
    })
  })

  it('when resends took the day past the budget, then nothing is left, never a negative amount', async () => {
    await service.deps.sql.query(
      `INSERT INTO caller_spend (caller, day, cents) VALUES ('overrun', '2026-11-28', 12)`,
    )
    expect((await usage('overrun')).json()).toMatchObject({
      budget: { dailyUsd: 0.1, spentTodayUsd: 0.12, remainingUsd: 0 },
    })
  })

  it('when from is after to, then 400 validation_failed names from', async () => {
    const body = expectErrorReply(
      await usage('ranger', '?from=2026-11-29&to=2026-11-28T23:59:59Z'),
      400,
      'validation_failed',
    )
    expect(body.details).toEqual([
      { field: 'from', message: 'must not be after to (2026-11-28T23:59:59.000Z)' },
    ])
    // With `to` left to its default, the end of the current UTC day.
    const future = expectErrorReply(await usage('ranger', '?from=2026-12-01'), 400, 'validation_failed')
    expect(future.details.map((detail) => detail.field)).toEqual(['from'])
  })

  it('when the range spans more than 366 days, then 400 validation_failed names the field given, and 366 days are answered', async () => {
    const both = expectErrorReply(
      await usage('ranger', '?from=2025-11-28&to=2026-11-29T00:00:00.001Z'),
      400,
      'validation_failed',
    )
    expect(both.details).toEqual([
      { field: 'to', message: 'must be at most 366 days after from (2025-11-28T00:00:00.000Z)' },
    ])
    const wide = expectErrorReply(await usage('ranger', '?from=0001-01-01&to=9999-12-31'), 400)
    expect(wide.details.map((detail) => detail.field)).toEqual(['to'])
    // `to` left to its default, the end of the current UTC day (2026-11-29T00:00Z).
    const early = expectErrorReply(await usage('ranger', '?from=2025-11-27'), 400, 'validation_failed')
    expect(early.details).toEqual([
      { field: 'from', message: 'must be at most 366 days before to (2026-11-29T00:00:00.000Z)' },
    ])
    const late = expectErrorReply(await usage('ranger', '?to=2027-11-30'), 400, 'validation_failed')
    expect(late.details.map((detail) => detail.field)).toEqual(['to'])
    expect((await usage('ranger', '?from=2025-11-28&to=2026-11-29')).statusCode).toBe(200)
  })

  it.each([
    ['?from=yesterday', 'from'],
    ['?to=2026-02-30', 'to'],
    ['?from=2026-11-28T10:00:00', 'from'],
    ['?to=', 'to'],
    ['?from=2026-11-28&from=2026-11-29', 'from'],
    ['?since=2026-11-28', 'since'],
  ])('when the query is %s, then 400 validation_failed names %s', async (query, field) => {
    const body = expectErrorReply(await usage('ranger', query), 400, 'validation_failed')
    expect(body.details.map((detail) => detail.field)).toEqual([field])
  })

  it('when no caller token is sent, then 401 and nothing is told', async () => {
    expectErrorReply(await usage(undefined, '?from=2026-11-28'), 401, 'unauthorized')
  })
})

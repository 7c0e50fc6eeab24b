import { describe, expect, it } from 'vitest'
import { BudgetExceeded } from '../../src/api/error-catalog.js'
import { centsToUsd, formatUsd } from '../../src/spend/money.js'
import { usageQuery } from '../../src/spend/usage.schemas.js'
import { startOfNextUtcDay, startOfUtcDay, utcDay } from '../../src/spend/utc-days.js'

const parsedFrom = (from: string) => {
  const parsed = usageQuery.safeParse({ from })
  return parsed.success ? parsed.data.from?.toISOString() : undefined
}

describe('the GET /usage range', () => {
  it.each([
    ['2026-11-28', '2026-11-28T00:00:00.000Z'],
    ['2028-02-29', '2028-02-29T00:00:00.000Z'],
    ['2026-11-28T10:00:00Z', '2026-11-28T10:00:00.000Z'],
    ['2026-11-28T10:00:00.250Z', '2026-11-28T10:00:00.250Z'],
    ['2026-11-28T01:30:00+02:00', '2026-11-27T23:30:00.000Z'],
    ['2026-11-28T10:00:00-05:00', '2026-11-28T15:00:00.000Z'],
  ])('when a bound is %j, then it is the instant %s', (value, instant) => {
    expect(parsedFrom(value)).toBe(instant)
  })

  it.each([
    'today',
    '',
    '2026-11-28T10:00:00',
    '2026-02-29',
    '2026-11-31',
    '2026-13-01',
    '2026-11-28T25:00:00Z',
    '28/11/2026',
    '1764324000',
    '2026-11-28 10:00:00Z',
    '0000-01-01',
    '0001-01-01T00:00:00+00:01',
    '+012026-11-28',
  ])('when a bound is %j, then it is refused with what an instant must look like', (value) => {
    const parsed = usageQuery.safeParse({ from: value, to: '2026-11-29' })
    expect(parsed.success).toBe(false)
    expect(parsed.error?.issues.map((issue) => issue.path)).toEqual([['from']])
    expect(parsed.error?.issues[0]?.message).toContain('ISO date')
  })

  it('when no bound is given, then both stay unset for the service to default, and unknown keys are refused', () => {
    expect(usageQuery.parse({})).toEqual({})
    expect(usageQuery.safeParse({ since: '2026-11-28' }).success).toBe(false)
  })

  it('when an instant is anywhere in a UTC day, then its day starts at 00:00Z and the next at 00:00Z after', () => {
    for (const value of ['2026-11-28T00:00:00.000Z', '2026-11-28T15:30:00Z', '2026-11-28T23:59:59.999Z']) {
      const instant = new Date(value)
      expect(utcDay(instant)).toBe('2026-11-28')
      expect(startOfUtcDay(instant).toISOString()).toBe('2026-11-28T00:00:00.000Z')
      expect(startOfNextUtcDay(instant).toISOString()).toBe('2026-11-29T00:00:00.000Z')
    }
    expect(startOfNextUtcDay(new Date('2028-02-28T12:00:00Z')).toISOString()).toBe('2028-02-29T00:00:00.000Z')
  })
})

describe('money', () => {
  it.each([
    [0, '$0.00', 0],
    [2, '$0.02', 0.02],
    [37, '$0.37', 0.37],
    [499, '$4.99', 4.99],
    [500, '$5.00', 5],
    [123456, '$1234.56', 1234.56],
  ])('when %i cents are shown, then a message reads %s and JSON %d', (cents, text, usd) => {
    expect(formatUsd(cents)).toBe(text)
    expect(centsToUsd(cents)).toBe(usd)
  })

  it('when a budget is exceeded, then the error names the budget, the caller, the spend and the ask, in dollars', () => {
    const error = new BudgetExceeded('$5.00', 'team-a', '$4.99', '$0.02')
    expect(error.statusCode).toBe(402)
    expect(error.code.toLowerCase()).toBe('budget_exceeded')
    expect(error.message).toBe(
      'daily budget of $5.00 for caller "team-a" exceeded: $4.99 spent today, $0.02 asked',
    )
  })
})

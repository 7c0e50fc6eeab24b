import { BudgetExceeded, InvalidField } from '../api/error-catalog.js'
import type { Queryable } from '../db/pool.js'
import type { ServiceDeps } from '../deps.js'
import { perPool } from '../lib/per-pool.js'
import { sharedInFlight } from '../lib/shared-in-flight.js'
import { CENTS_PER_TASK, centsToUsd, formatUsd } from './money.js'
import { holdBudget, spentOn, usageTotals } from './spend.repository.js'
import type { UsageQuery, UsageResource } from './usage.schemas.js'
import { startOfNextUtcDay, startOfUtcDay, utcDay } from './utc-days.js'

/**
 * The budget rule: how many cents a new caption holds of its caller's daily budget until it ends (given
 * back unless a task was made for it). One that takes a finished caption's text costs nothing; a caller
 * without a budget holds nothing.
 */
export function centsToHold(
  deps: Pick<ServiceDeps, 'budgets'>,
  caller: string,
  caption: { reused: boolean },
): number {
  return caption.reused || !deps.budgets.has(caller) ? 0 : CENTS_PER_TASK
}

/**
 * Holds `cents` of the caller's budget for the UTC day of `now`, in the transaction `tx` that records
 * the work they pay for; throws `budget_exceeded` when they do not fit. Callers without a budget, and
 * work that costs nothing, hold nothing.
 */
export async function holdFor(
  deps: Pick<ServiceDeps, 'budgets'>,
  tx: Queryable,
  caller: string,
  cents: number,
  now: Date,
): Promise<void> {
  const budgetCents = deps.budgets.get(caller)
  if (budgetCents === undefined || cents <= 0) return
  const hold = await holdBudget(tx, { caller, cents, now, budgetCents })
  if (!hold.held) {
    throw new BudgetExceeded(formatUsd(budgetCents), caller, formatUsd(hold.spentCents), formatUsd(cents))
  }
}

/** The longest range GET /usage counts over: a year, leap years included. */
export const MAX_USAGE_RANGE_DAYS = 366
const MAX_USAGE_RANGE_MS = MAX_USAGE_RANGE_DAYS * 24 * 60 * 60 * 1000

/**
 * The caller's totals over a range, one statement at a time per pool and (caller, from, to): a caller
 * asking again while its count runs (a dashboard's panels, a retry loop) shares that count instead of
 * counting once more. Whole UTC days (the default range is one) are read from their daily counts; only
 * the captions of partial days at the range's edges are counted one by one.
 */
const totalsOf = perPool((sql: ServiceDeps['sql']) =>
  sharedInFlight(
    (range: { caller: string; from: Date; to: Date }) => usageTotals(sql, range),
    (range) => JSON.stringify([range.caller, range.from.getTime(), range.to.getTime()]),
  ),
)

/**
 * GET /usage: the caller's captions created in `[from, to)` (the current UTC day by default) and its
 * budget for the current UTC day.
 */
export async function readUsage(
  deps: Pick<ServiceDeps, 'sql' | 'clock' | 'budgets'>,
  caller: string,
  query: UsageQuery,
): Promise<UsageResource> {
  const now = deps.clock.now()
  const from = query.from ?? startOfUtcDay(now)
  const to = query.to ?? startOfNextUtcDay(now)
  if (from > to) throw new InvalidField('from', `must not be after to (${to.toISOString()})`)
  if (to.getTime() - from.getTime() > MAX_USAGE_RANGE_MS) {
    // The field the caller gave is the one at fault; with both given, `to` is too far from `from`.
    if (query.to !== undefined)
      throw new InvalidField(
        'to',
        `must be at most ${MAX_USAGE_RANGE_DAYS} days after from (${from.toISOString()})`,
      )
    throw new InvalidField(
      'from',
      `must be at most ${MAX_USAGE_RANGE_DAYS} days before to (${to.toISOString()})`,
    )
  }
  const budgetCents = deps.budgets.get(caller)
  const [totals, spentCents] = await Promise.all([
    totalsOf(deps.sql)({ caller, from, to }),
    budgetCents === undefined ? 0 : spentOn(deps.sql, caller, utcDay(now)),
  ])
  return {
    from: from.toISOString(),
    to: to.toISOString(),
    ...totals,
    costUsd: centsToUsd(totals.goapiTasks * CENTS_PER_TASK),
    budget:
      budgetCents === undefined
        ? null
        : {
            dailyUsd: centsToUsd(budgetCents),
            spentTodayUsd: centsToUsd(spentCents),
            remainingUsd: centsToUsd(Math.max(0, budgetCents - spentCents)),
          },
  }
}

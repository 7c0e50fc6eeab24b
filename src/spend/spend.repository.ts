import type { Queryable, Sql } from '../db/pool.js'
import { startOfNextUtcDay, startOfUtcDay, utcDay } from './utc-days.js'

export interface HoldRequest {
  caller: string
  cents: number
  /** The hold counts against the UTC day of this instant, the day of the captions it pays for. */
  now: Date
  budgetCents: number
}

export type HoldResult = { held: true } | { held: false; spentCents: number }

/**
 * Adds `cents` to the caller's spend for the day unless that would pass its budget (reaching it exactly
 * is allowed). One statement: a first hold of the day inserts the row, later ones update it, and the
 * row's lock serializes concurrent holds on every replica, each comparing against the committed total
 * before it, so no interleaving can overshoot. Meant to run in the transaction that records the work,
 * so that a refused hold records nothing and work rolled back holds nothing.
 */
export async function holdBudget(tx: Queryable, request: HoldRequest): Promise<HoldResult> {
  const day = utcDay(request.now)
  const { rowCount } = await tx.query({
    name: 'hold-budget',
    text: `INSERT INTO caller_spend (caller, day, cents)
      SELECT $1::text, $2::date, $3::int WHERE $3::int <= $4::int
      ON CONFLICT (caller, day) DO UPDATE SET cents = caller_spend.cents + EXCLUDED.cents
        WHERE caller_spend.cents::bigint + EXCLUDED.cents <= $4::int
      RETURNING cents`,
    values: [request.caller, day, request.cents, request.budgetCents],
  })
  if (rowCount === 1) return { held: true }
  return { held: false, spentCents: await spentOn(tx, request.caller, day) }
}

/** Cents the caller has committed on a UTC day (`2026-11-28`): held, spent, resends added. */
export async function spentOn(db: Queryable, caller: string, day: string): Promise<number> {
  const { rows } = await db.query<{ cents: number }>({
    name: 'caller-spent-on',
    text: 'SELECT cents FROM caller_spend WHERE caller = $1 AND day = $2::date',
    values: [caller, day],
  })
  return rows[0]?.cents ?? 0
}

/** What a caller's captions created in `[from, to)` came to. */
export interface UsageTotals {
  captions: number
  reused: number
  failed: number
  goapiTasks: number
}

/**
 * The range `[from, to)` cut at UTC midnights: the whole days inside it, counted from caption_usage_days,
 * and the parts of days at its edges, counted from captions. A range without a whole day is all edge.
 */
export function splitAtUtcDays(from: Date, to: Date): { firstDay: Date; endDay: Date } {
  const firstDay = from.getTime() === startOfUtcDay(from).getTime() ? from : startOfNextUtcDay(from)
  const endDay = startOfUtcDay(to)
  return firstDay < endDay ? { firstDay, endDay } : { firstDay: to, endDay: to }
}

export async function usageTotals(
  sql: Sql,
  range: { caller: string; from: Date; to: Date },
): Promise<UsageTotals> {
  const { firstDay, endDay } = splitAtUtcDays(range.from, range.to)
  const { rows } = await sql.query<UsageTotals>({
    name: 'usage-totals',
    // Live captions: the whole days [$4, $5) from their daily counts, the edges [$2, $4) and [$5, $3) one
    // by one. Erased and pruned captions count on the UTC day they were created, in ranges holding its 00:00Z.
    text: `SELECT sum(captions)::int AS captions, sum(reused)::int AS reused, sum(failed)::int AS failed,
        sum(goapi_tasks)::int AS "goapiTasks"
      FROM (SELECT coalesce(sum(captions), 0) AS captions, coalesce(sum(reused), 0) AS reused,
          coalesce(sum(failed), 0) AS failed, coalesce(sum(goapi_tasks), 0) AS goapi_tasks
        FROM caption_usage_days WHERE caller = $1 AND day >= $6::date AND day < $7::date
        UNION ALL
        SELECT count(*), count(reused_from), count(*) FILTER (WHERE status = 'failed'),
          coalesce(sum(goapi_tasks), 0)
        FROM captions WHERE caller = $1 AND created_at >= $2 AND created_at < $4
        UNION ALL
        SELECT count(*), count(reused_from), count(*) FILTER (WHERE status = 'failed'),
          coalesce(sum(goapi_tasks), 0)
        FROM captions WHERE caller = $1 AND created_at >= $5 AND created_at < $3
        UNION ALL
        SELECT coalesce(sum(captions), 0), coalesce(sum(reused), 0), coalesce(sum(failed), 0),
          coalesce(sum(goapi_tasks), 0)
        FROM erased_usage WHERE caller = $1 AND (day::timestamp AT TIME ZONE 'UTC') >= $2
          AND (day::timestamp AT TIME ZONE 'UTC') < $3) AS kept`,
    values: [range.caller, range.from, range.to, firstDay, endDay, utcDay(firstDay), utcDay(endDay)],
  })
  return rows[0] as UsageTotals
}

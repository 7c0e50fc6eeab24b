import { BudgetExceeded } from '../api/error-catalog.js'
import type { Queryable } from '../db/pool.js'
import { formatUsd } from './money.js'

/** Cents the caller's spend of the caption's UTC day (the day its tasks are counted on) stands at. */
async function spendOfCaptionDay(tx: Queryable, id: string): Promise<number> {
  const { rows } = await tx.query<{ cents: number }>({
    name: 'spend-of-caption-day',
    text: `SELECT s.cents FROM captions c
      JOIN caller_spend s ON s.caller = c.caller AND s.day = (c.created_at AT TIME ZONE 'UTC')::date
      WHERE c.id = $1`,
    values: [id],
  })
  return rows[0]?.cents ?? 0
}

export interface Requeued {
  caller: string
  /** The caller's daily budget; undefined when it has none (nothing to check). */
  budgetCents: number | undefined
  /** One of the captions queued again (a batch's items share its day). */
  captionId: string
  /** Cents held for them together: a cent a caption. */
  heldCents: number
}

/**
 * After captions were queued again in `tx` (their cents held by the charge trigger on their own day,
 * where GET /usage counts their tasks): throws `BudgetExceeded` when that day's spend now passes the
 * caller's budget, so that the transaction rolls back and nothing changes.
 */
export async function refuseRequeueOverBudget(tx: Queryable, requeued: Requeued): Promise<void> {
  if (requeued.budgetCents === undefined) return
  const spentCents = await spendOfCaptionDay(tx, requeued.captionId)
  if (spentCents <= requeued.budgetCents) return
  throw new BudgetExceeded(
    formatUsd(requeued.budgetCents),
    requeued.caller,
    formatUsd(spentCents - requeued.heldCents),
    formatUsd(requeued.heldCents),
  )
}

import type pg from 'pg'
import { batchWhileRunning } from '../lib/batch-while-running.js'
import { perPool } from '../lib/per-pool.js'
import { untraced } from './untraced.js'

/** The pool (or anything that queries like it): tracing does not depend on the database module. */
export type Sql = Pick<pg.Pool, 'query'>

/**
 * Reads captions' stored traceparents, many in one statement: while one read runs, the captions asked
 * for meanwhile wait and are read together next, as the webhook path's advances are. A webhook then costs
 * a share of a statement, not a statement of its own, for finding the trace it belongs to.
 */
export function createTraceParentReader(sql: Sql): (captionId: string) => Promise<string | null> {
  return batchWhileRunning(async (captionIds: string[]) => {
    // Tracing's own bookkeeping: not a span of any request.
    const { rows } = await untraced(() =>
      sql.query<{ id: string; traceParent: string | null }>({
        name: 'caption-trace-parents',
        text: 'SELECT id, trace_parent AS "traceParent" FROM captions WHERE id = ANY($1::uuid[])',
        values: [[...new Set(captionIds)]],
      }),
    )
    const found = new Map(rows.map((row) => [row.id, row.traceParent]))
    return captionIds.map((id) => found.get(id) ?? null)
  })
}

const readerOf = perPool(createTraceParentReader)

/** A caption's stored traceparent (null when it has none or is gone), through the pool's reader. */
export function storedTraceParent(sql: Sql, captionId: string): Promise<string | null> {
  return readerOf(sql)(captionId.toLowerCase())
}

import type { Queryable } from '../db/pool.js'

/** Rows of caption_usage_days folded per statement: a short statement, even over a long backlog. */
export const FOLD_CHUNK_ROWS = 5000

export interface Folded {
  /** Rows of writing backends folded into their day's shard 0. */
  rows: number
  /** Days of a caller whose counts came to 0 (every caption of the day erased or pruned), deleted. */
  emptyDays: number
}

/**
 * caption_usage_days holds a row per caller, UTC day and backend that wrote to that day. For the days
 * before `today` (`2026-11-28`), each caller's rows are folded into one (shard 0) holding their sums, and
 * a day whose sums came to 0 is deleted, a chunk of rows per statement until none is left (or `signal`
 * is aborted): a day is then one row, whatever wrote to it. Safe beside the triggers and other folds:
 * - a row is taken (deleted, its counts returned) and added to shard 0 in one statement, so its counts
 *   are never both there and gone, nor in neither;
 * - the fold takes no row a writer holds (SKIP LOCKED) and never waits for one; a writer that adds to a row
 *   while the fold deletes it waits, then inserts a fresh row, which the next fold takes;
 * - only folds write shard 0, each in (caller, day) order, so two folds wait for each other at most.
 */
export async function foldPastUsageDays(
  db: Queryable,
  today: string,
  options: { chunkRows?: number; signal?: AbortSignal | undefined } = {},
): Promise<Folded> {
  const chunkRows = options.chunkRows ?? FOLD_CHUNK_ROWS
  const folded: Folded = { rows: 0, emptyDays: 0 }
  // Each chunk starts after the last row the one before took, in the primary key's order.
  let after: { caller: string; day: string; shard: number } = { caller: '', day: '-infinity', shard: 0 }
  while (!options.signal?.aborted) {
    const { rows } = await db.query<ChunkResult>({
      name: 'fold-usage-days',
      text: FOLD_CHUNK,
      values: [today, after.caller, after.day, after.shard, chunkRows],
    })
    const chunk = rows[0]
    if (chunk === undefined) break
    folded.rows += chunk.rows
    if (chunk.emptyCallers.length > 0) folded.emptyDays += await deleteEmptyDays(db, chunk)
    if (chunk.rows < chunkRows || chunk.last === null) break
    after = chunk.last
  }
  return folded
}

interface ChunkResult {
  rows: number
  last: { caller: string; day: string; shard: number } | null
  emptyCallers: string[]
  emptyDays: string[]
}

const FOLD_CHUNK = `WITH taken AS (
    SELECT caller, day, shard FROM caption_usage_days
      WHERE (caller, day, shard) > ($2::text, $3::date, $4::int) AND day < $1::date AND shard <> 0
      ORDER BY caller, day, shard LIMIT $5 FOR UPDATE SKIP LOCKED),
  gone AS (
    DELETE FROM caption_usage_days u USING taken t
      WHERE u.caller = t.caller AND u.day = t.day AND u.shard = t.shard
      RETURNING u.caller, u.day, u.shard, u.captions, u.reused, u.failed, u.goapi_tasks),
  folded AS (
    INSERT INTO caption_usage_days AS u (caller, day, shard, captions, reused, failed, goapi_tasks)
      SELECT caller, day, 0, sum(captions), sum(reused), sum(failed), sum(goapi_tasks) FROM gone
        GROUP BY caller, day ORDER BY caller, day
      ON CONFLICT (caller, day, shard) DO UPDATE SET captions = u.captions + EXCLUDED.captions,
        reused = u.reused + EXCLUDED.reused, failed = u.failed + EXCLUDED.failed,
        goapi_tasks = u.goapi_tasks + EXCLUDED.goapi_tasks
      RETURNING caller, day, captions = 0 AND reused = 0 AND failed = 0 AND goapi_tasks = 0 AS empty)
  SELECT (SELECT count(*)::int FROM gone) AS rows,
    (SELECT json_build_object('caller', caller, 'day', day::text, 'shard', shard) FROM gone
      ORDER BY caller DESC, day DESC, shard DESC LIMIT 1) AS last,
    coalesce((SELECT array_agg(caller) FROM folded WHERE empty), '{}') AS "emptyCallers",
    coalesce((SELECT array_agg(day::text) FROM folded WHERE empty), '{}') AS "emptyDays"`

/**
 * The shard-0 rows a chunk left at 0, deleted unless another fold is adding to them (it deletes them
 * itself then, if they stay at 0). Only folds write shard 0, so a row at 0 holds nothing anyone counts.
 */
async function deleteEmptyDays(db: Queryable, chunk: ChunkResult): Promise<number> {
  const { rowCount } = await db.query({
    name: 'delete-empty-usage-days',
    text: `DELETE FROM caption_usage_days WHERE (caller, day, shard) IN (
        SELECT caller, day, shard FROM caption_usage_days
          WHERE shard = 0 AND (caller, day) IN (SELECT * FROM unnest($1::text[], $2::date[]))
            AND captions = 0 AND reused = 0 AND failed = 0 AND goapi_tasks = 0
          FOR UPDATE SKIP LOCKED)`,
    values: [chunk.emptyCallers, chunk.emptyDays],
  })
  return rowCount ?? 0
}

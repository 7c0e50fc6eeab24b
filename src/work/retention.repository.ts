import { setTimeout as sleep } from 'node:timers/promises'
import type pg from 'pg'
import { TERMINAL_STATUSES } from '../captions/statuses.js'
import type { Sql } from '../db/pool.js'

/** Rows deleted per statement: small enough that no hot path waits long on what a chunk locks. */
export const PRUNE_CHUNK_ROWS = 2000
/**
 * The least pause after each chunk. The sweep also waits as long as the chunk took: a backlog of
 * millions goes at most half the time of one connection, and creations and other jobs go between.
 */
export const PRUNE_PAUSE_MIN_MS = 20
/** The advisory lock the sweeping replica holds: one replica sweeps at a time. */
const RETENTION_LOCK = 0x63617074_72657465n

export type PrunedTable = 'captions' | 'batches' | 'callback_events' | 'callback_deliveries'
export type Pruned = Record<PrunedTable, number>

/**
 * Deletes what finished before `cutoff`, a chunk per transaction until nothing is left: captions posted
 * alone, then the items of completed batches, then those batches, each with its callback events and
 * their deliveries. Open work is never touched, nor an item of a batch still open. Returns null when
 * another replica is sweeping. The usage of the captions deleted is kept (trigger into erased_usage).
 * Between chunks it pauses (PRUNE_PAUSE_MIN_MS, or as long as the chunk took), and it ends early, with
 * what it deleted so far, once `options.signal` is aborted (the replica stops): the next sweep goes on.
 */
export async function pruneFinished(
  sql: Sql,
  cutoff: Date,
  onChunk: (pruned: Pruned) => void,
  options: PruneOptions = {},
): Promise<Pruned | null> {
  const client = await sql.connect()
  try {
    const { rows } = await client.query<{ locked: boolean }>({
      text: 'SELECT pg_try_advisory_lock($1::bigint) AS locked',
      values: [RETENTION_LOCK.toString()],
    })
    if (!rows[0]?.locked) return null
    try {
      const total: Pruned = { captions: 0, batches: 0, callback_events: 0, callback_deliveries: 0 }
      const add = (pruned: Pruned) => {
        onChunk(pruned)
        for (const table of Object.keys(total) as PrunedTable[]) total[table] += pruned[table]
      }
      const chunkRows = options.chunkRows ?? PRUNE_CHUNK_ROWS
      /** Runs one chunk, then pauses; false once the sweep is to end (nothing more, or stopping). */
      const chunk = async (work: () => Promise<Pruned>, full: (pruned: Pruned) => boolean) => {
        if (options.signal?.aborted) return false
        const started = performance.now()
        const pruned = await work()
        add(pruned)
        if (!full(pruned)) return false
        const pauseMs = Math.max(options.pauseMinMs ?? PRUNE_PAUSE_MIN_MS, performance.now() - started)
        await sleep(pauseMs, undefined, { signal: options.signal }).catch(() => {})
        return true
      }
      // Oldest first, each chunk starting where the last one ended: the index entries of the rows
      // already deleted are not walked again by every chunk.
      const alone = { after: new Date(0) }
      while (
        await chunk(
          () => pruneCaptionChunk(client, PICK_ALONE, [alone.after, cutoff], chunkRows, alone),
          (pruned) => pruned.captions === chunkRows,
        )
      );
      while (
        await chunk(
          () => pruneCaptionChunk(client, PICK_BATCH_ITEMS, [cutoff], chunkRows),
          (pruned) => pruned.captions === chunkRows,
        )
      );
      while (
        await chunk(
          () => pruneBatchChunk(client, cutoff, chunkRows),
          (pruned) => pruned.batches === chunkRows,
        )
      );
      return total
    } finally {
      await client.query({
        text: 'SELECT pg_advisory_unlock($1::bigint)',
        values: [RETENTION_LOCK.toString()],
      })
    }
  } finally {
    client.release()
  }
}

export interface PruneOptions {
  /** Ends the sweep between two chunks. */
  signal?: AbortSignal | undefined
  chunkRows?: number
  pauseMinMs?: number
}

/** Finished captions posted alone, finished from $3 and before $4, oldest first. */
const PICK_ALONE = `SELECT id, completed_at FROM captions
  WHERE completed_at >= $3 AND completed_at < $4 AND batch_id IS NULL AND status = ANY($1::caption_status[])
  ORDER BY completed_at LIMIT $2 FOR UPDATE SKIP LOCKED`
/** Items of batches completed before $3 (all of them finished: the batch completed with its last one). */
const PICK_BATCH_ITEMS = `SELECT c.id, c.completed_at FROM batches b JOIN captions c ON c.batch_id = b.id
  WHERE b.completed_at < $3 AND c.status = ANY($1::caption_status[])
  LIMIT $2 FOR UPDATE OF c SKIP LOCKED`

async function pruneCaptionChunk(
  client: pg.PoolClient,
  pick: string,
  bounds: Date[],
  chunkRows: number,
  progress?: { after: Date },
): Promise<Pruned> {
  return inChunk(client, async () => {
    const { rows } = await client.query<{ id: string; completed_at: Date }>({
      text: pick,
      values: [TERMINAL_STATUSES, chunkRows, ...bounds],
    })
    const ids = rows.map((row) => row.id)
    const last = rows.at(-1)
    if (progress && last) progress.after = last.completed_at
    const events = await deleteEvents(client, 'caption_id', ids)
    const captions = await client.query({
      text: 'DELETE FROM captions WHERE id = ANY($1::uuid[])',
      values: [ids],
    })
    return { ...events, captions: captions.rowCount ?? 0, batches: 0 }
  })
}

async function pruneBatchChunk(client: pg.PoolClient, cutoff: Date, chunkRows: number): Promise<Pruned> {
  return inChunk(client, async () => {
    const { rows } = await client.query<{ id: string }>({
      text: `SELECT id FROM batches b WHERE completed_at < $1
          AND NOT EXISTS (SELECT 1 FROM captions c WHERE c.batch_id = b.id)
        ORDER BY completed_at LIMIT $2 FOR UPDATE SKIP LOCKED`,
      values: [cutoff, chunkRows],
    })
    const ids = rows.map((row) => row.id)
    const events = await deleteEvents(client, 'batch_id', ids)
    const batches = await client.query({
      text: 'DELETE FROM batches WHERE id = ANY($1::uuid[])',
      values: [ids],
    })
    return { ...events, captions: 0, batches: batches.rowCount ?? 0 }
  })
}

/** The callback events of the subjects `ids` and their deliveries, deleted (and counted) before them. */
async function deleteEvents(
  client: pg.PoolClient,
  column: 'caption_id' | 'batch_id',
  ids: string[],
): Promise<Pick<Pruned, 'callback_events' | 'callback_deliveries'>> {
  const deliveries = await client.query({
    text: `DELETE FROM callback_deliveries WHERE event_id IN
      (SELECT id FROM callback_events WHERE ${column} = ANY($1::uuid[]))`,
    values: [ids],
  })
  const events = await client.query({
    text: `DELETE FROM callback_events WHERE ${column} = ANY($1::uuid[])`,
    values: [ids],
  })
  return { callback_events: events.rowCount ?? 0, callback_deliveries: deliveries.rowCount ?? 0 }
}

async function inChunk(client: pg.PoolClient, work: () => Promise<Pruned>): Promise<Pruned> {
  await client.query('BEGIN')
  try {
    const pruned = await work()
    await client.query('COMMIT')
    return pruned
  } catch (error) {
    await client.query('ROLLBACK').catch(() => {})
    throw error
  }
}

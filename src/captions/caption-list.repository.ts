import type { Sql } from '../db/pool.js'
import { CAPTION_RESOURCE_JSON } from './caption-json.repository.js'
import type { ListPosition } from './caption-rows.repository.js'
import type { CaptionStatus } from './statuses.js'

/** GET /captions: a caller's captions, newest first, a page at a time. */

/** A caption in a list: its place, and its resource as JSON text. */
export interface ListedCaption extends ListPosition {
  resource: string
}

/** What GET /captions narrows the caller's captions to; every filter given applies. */
export interface CaptionFilters {
  status?: CaptionStatus | undefined
  batchId?: string | undefined
  /** Inclusive. */
  createdAfter?: Date | undefined
  /** Exclusive. */
  createdBefore?: Date | undefined
}

// One statement per combination of filters given (16 at most), each prepared under its own name: a
// condition that is absent is left out rather than written `$n IS NULL OR ...`, so that every plan
// can use the index it needs (caller + status + created_at, caller + created_at, or batch_id).
const LIST_FILTERS = [
  ['status', 's', 'status = $%::caption_status'],
  ['batchId', 'b', 'batch_id = $%::uuid'],
  ['createdAfter', 'a', 'created_at >= $%::timestamptz'],
  ['createdBefore', 'e', 'created_at < $%::timestamptz'],
] as const

/**
 * Newest first, each as its resource's JSON text (CAPTION_RESOURCE_JSON) with its place in the list;
 * `after` is the last row of the previous page.
 */
export async function listCaptions(
  sql: Sql,
  options: {
    caller: string
    filters?: CaptionFilters
    limit: number
    after: ListPosition | undefined
  },
): Promise<ListedCaption[]> {
  const { after, filters = {} } = options
  const values: unknown[] = [options.caller]
  const conditions = ['caller = $1']
  let name = 'list-captions'
  for (const [field, letter, condition] of LIST_FILTERS) {
    const value = filters[field]
    if (value === undefined) continue
    values.push(value)
    conditions.push(condition.replace('%', String(values.length)))
    name += `-${letter}`
  }
  if (after !== undefined) {
    values.push(after.createdAt, after.id)
    conditions.push(`(created_at, id) < ($${values.length - 1}::timestamptz, $${values.length}::uuid)`)
    name += '-p'
  }
  values.push(options.limit)
  const { rows } = await sql.query<ListedCaption>({
    name,
    text: `SELECT c.id, c.created_at AS "createdAt", ${CAPTION_RESOURCE_JSON}::text AS resource FROM captions c
      WHERE ${conditions.join(' AND ')}
      ORDER BY created_at DESC, id DESC
      LIMIT $${values.length}`,
    values,
  })
  return rows
}

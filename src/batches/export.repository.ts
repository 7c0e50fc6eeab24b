import type { CaptionStatus } from '../captions/statuses.js'
import type { Sql } from '../db/pool.js'

/**
 * A batch's items as its exports read them: a page of items at a time in item order (each item with
 * its captions, one per prompt style, in the batch's order of styles), after the last item of the
 * previous page, each page one statement on the pool, so a download holds no connection between pages
 * however long it takes.
 */

/** One caption of a batch's item, as every record of the jsonl and csv exports needs it. */
export interface ExportRow {
  itemIndex: number
  fileName: string | null
  imageUrl: string
  promptStyle: string
  status: CaptionStatus
  caption: string | null
  errorCode: string | null
}

/** One completed caption of a batch's item, as the zip export writes it (and fetches its image). */
export interface ArchiveRow {
  itemIndex: number
  fileName: string | null
  imageUrl: string
  promptStyle: string
  caption: string
  completedAt: Date | null
}

export interface PageAfter {
  batchId: string
  /** The batch's prompt styles: each item's captions come in their order. */
  styles: readonly string[]
  /** The last item of the previous page; -1 for the first page. */
  afterIndex: number
  /** How many items (not captions) a page holds at most. */
  limit: number
}

export async function exportRowsAfter(sql: Sql, page: PageAfter): Promise<ExportRow[]> {
  const { rows } = await sql.query<ExportRow>({
    name: 'export-rows-after',
    text: `WITH page AS (
        SELECT DISTINCT item_index FROM captions WHERE batch_id = $1 AND item_index > $2
        ORDER BY item_index LIMIT $3)
      SELECT item_index AS "itemIndex", file_name AS "fileName", image_url AS "imageUrl",
        prompt_style AS "promptStyle", status, caption, error_code AS "errorCode"
      FROM captions WHERE batch_id = $1 AND item_index IN (SELECT item_index FROM page)
      ORDER BY item_index, array_position($4::text[], prompt_style), id`,
    values: [page.batchId, page.afterIndex, page.limit, page.styles],
  })
  return rows
}

export async function completedRowsAfter(sql: Sql, page: PageAfter): Promise<ArchiveRow[]> {
  const { rows } = await sql.query<ArchiveRow>({
    name: 'export-completed-rows-after',
    text: `WITH page AS (
        SELECT DISTINCT item_index FROM captions
        WHERE batch_id = $1 AND item_index > $2 AND status = 'completed'
        ORDER BY item_index LIMIT $3)
      SELECT item_index AS "itemIndex", file_name AS "fileName", image_url AS "imageUrl",
        prompt_style AS "promptStyle", coalesce(caption, '') AS caption, completed_at AS "completedAt"
      FROM captions
      WHERE batch_id = $1 AND item_index IN (SELECT item_index FROM page) AND status = 'completed'
      ORDER BY item_index, array_position($4::text[], prompt_style), id`,
    values: [page.batchId, page.afterIndex, page.limit, page.styles],
  })
  return rows
}

import type { CaptionStatus } from '../captions/statuses.js'
import type { Sql } from '../db/pool.js'

/**
 * A batch's items as its exports read them: a page at a time in item order, after the last item of
 * the previous page, each page one statement on the pool, so a download holds no connection between
 * pages however long it takes.
 */

/** One item of a batch, as every record of the jsonl and csv exports needs it. */
export interface ExportRow {
  itemIndex: number
  fileName: string | null
  imageUrl: string
  status: CaptionStatus
  caption: string | null
  errorCode: string | null
}

/** One completed item of a batch, as the zip export writes it to its file. */
export interface ArchiveRow {
  itemIndex: number
  fileName: string | null
  imageUrl: string
  caption: string
  completedAt: Date | null
}

export interface PageAfter {
  batchId: string
  /** The last item of the previous page; -1 for the first page. */
  afterIndex: number
  limit: number
}

export async function exportRowsAfter(sql: Sql, page: PageAfter): Promise<ExportRow[]> {
  const { rows } = await sql.query<ExportRow>({
    name: 'export-rows-after',
    text: `SELECT item_index AS "itemIndex", file_name AS "fileName", image_url AS "imageUrl", status,
        caption, error_code AS "errorCode"
      FROM captions WHERE batch_id = $1 AND item_index > $2 ORDER BY item_index LIMIT $3`,
    values: [page.batchId, page.afterIndex, page.limit],
  })
  return rows
}

export async function completedRowsAfter(sql: Sql, page: PageAfter): Promise<ArchiveRow[]> {
  const { rows } = await sql.query<ArchiveRow>({
    name: 'export-completed-rows-after',
    text: `SELECT item_index AS "itemIndex", file_name AS "fileName", image_url AS "imageUrl",
        coalesce(caption, '') AS caption, completed_at AS "completedAt"
      FROM captions WHERE batch_id = $1 AND item_index > $2 AND status = 'completed'
      ORDER BY item_index LIMIT $3`,
    values: [page.batchId, page.afterIndex, page.limit],
  })
  return rows
}

import { randomUUID } from 'node:crypto'
import { fileNamesFor } from '../../src/batches/file-names.js'
import type { CaptionStatus } from '../../src/captions/statuses.js'
import type { Sql } from '../../src/db/pool.js'

export interface SeedItem {
  name?: string
  imageUrl?: string
  status?: CaptionStatus
  caption?: string
  errorCode?: string
}

export interface SeededBatch {
  id: string
  /** Each item's stored file name, in item order, as POST /batches makes them. */
  fileNames: string[]
}

/**
 * A batch and its items written straight to the database, in one statement each, with the file names
 * POST /batches would give them: exports are checked against exactly the rows chosen here. Items are
 * inserted last first, so that nothing but `item_index` can put them in order.
 */
export async function seedBatch(
  sql: Sql,
  batch: {
    caller?: string
    prepend?: string
    append?: string
    /** Descriptive unless given. */
    promptStyle?: string
    items: readonly SeedItem[]
  },
): Promise<SeededBatch> {
  const id = randomUUID()
  const items = batch.items.map((item, index) => ({
    ...item,
    imageUrl: item.imageUrl ?? `https://images.example.com/seed/${id}/${index}.png`,
    status: item.status ?? 'completed',
  }))
  const fileNames = fileNamesFor(items)
  const open = items.filter((item) => item.status !== 'completed' && item.status !== 'failed').length
  await sql.query(
    `INSERT INTO batches (id, caller, total, open_items, prompt_style, caption_length, prepend, append, reuse,
        created_at, updated_at, completed_at)
      VALUES ($1, $2, $3, $4, $7, 'any', $5, $6, true, now(), now(),
        CASE WHEN $4 = 0 THEN now() END)`,
    [
      id,
      batch.caller ?? '',
      items.length,
      open,
      batch.prepend ?? '',
      batch.append ?? '',
      batch.promptStyle ?? 'Descriptive',
    ],
  )
  const order = items.map((_, index) => index).reverse()
  await sql.query(
    `INSERT INTO captions (id, caller, status, image_url, prompt_style, caption_length, caption, error_code,
        error_message, created_at, updated_at, completed_at, batch_id, item_index, name, file_name)
      SELECT gen_random_uuid(), $1, item.status::caption_status, item.image_url, $10, 'any',
        item.caption, item.error_code, CASE WHEN item.error_code IS NOT NULL THEN 'seeded failure' END,
        now(), now(), CASE WHEN item.status IN ('completed', 'failed') THEN now() END, $2, item.item_index,
        item.name, item.file_name
      FROM unnest($3::int[], $4::text[], $5::text[], $6::text[], $7::text[], $8::text[], $9::text[])
        AS item(item_index, status, image_url, caption, error_code, name, file_name)`,
    [
      batch.caller ?? '',
      id,
      order,
      order.map((index) => items[index]?.status),
      order.map((index) => items[index]?.imageUrl),
      order.map((index) => items[index]?.caption ?? null),
      order.map((index) => items[index]?.errorCode ?? null),
      order.map((index) => items[index]?.name ?? null),
      order.map((index) => fileNames[index]),
      batch.promptStyle ?? 'Descriptive',
    ],
  )
  return { id, fileNames }
}

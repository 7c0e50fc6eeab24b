import { createHash } from 'node:crypto'
import type { Queryable } from '../db/pool.js'
import type { CaptionStart } from './caption-rows.repository.js'
import { type CaptionStatus, OPEN_STATUSES } from './statuses.js'

/** A completed caption whose text a new caption of the same image may take. */
export interface ReuseSource {
  id: string
  caption: string
}

/** What the caller's captions of some images (same prompt style and length) offer new ones. */
export interface SameImageCaptions {
  /** Image URL → the newest caption completed within the reuse window: its text may be taken. */
  reusable: Map<string, ReuseSource>
  /** Image URL → the oldest open caption sent by itself, for a new one to wait for. */
  inProgress: Map<string, string>
}

export interface SameImageQuery {
  caller: string
  promptStyle: string
  captionLength: string
  imageUrls: readonly string[]
  now: Date
  /** REUSE_WINDOW_DAYS: how old a completion may be and still be reused. */
  reuseWindowMs: number
}

const FIND_SAME_IMAGE_CAPTIONS = `SELECT DISTINCT ON (image_url, open) image_url AS "imageUrl", id, caption, open
  FROM (
    SELECT image_url, id, caption, created_at, completed_at, status <> $7::caption_status AS open
    FROM captions
    WHERE caller = $1 AND md5(image_url) = ANY($4::text[]) AND image_url = ANY($5::text[])
      AND prompt_style = $2 AND caption_length = $3 AND NOT simulated
      AND ((status = $7::caption_status AND completed_at >= $6)
        OR (status = ANY($8::caption_status[]) AND waits_for IS NULL))) AS same
  ORDER BY image_url, open, completed_at DESC NULLS LAST, created_at, id`

/**
 * The reuse lookup, for captions posted alone and batch items alike: for each of the caller's image
 * URLs (with these options), the newest caption completed within the window, whose text may be reused;
 * else the oldest open caption sent by itself, to wait for. A simulated caption is neither: its text did
 * not come from GoAPI.
 */
export async function findSameImageCaptions(
  sql: Queryable,
  query: SameImageQuery,
): Promise<SameImageCaptions> {
  const { rows } = await sql.query<{ imageUrl: string; id: string; caption: string | null; open: boolean }>({
    name: 'find-same-image-captions',
    text: FIND_SAME_IMAGE_CAPTIONS,
    values: [
      query.caller,
      query.promptStyle,
      query.captionLength,
      query.imageUrls.map(md5),
      query.imageUrls,
      new Date(query.now.getTime() - query.reuseWindowMs),
      'completed' satisfies CaptionStatus,
      OPEN_STATUSES,
    ],
  })
  const reusable = new Map<string, ReuseSource>()
  const inProgress = new Map<string, string>()
  for (const row of rows) {
    if (row.open) inProgress.set(row.imageUrl, row.id)
    else reusable.set(row.imageUrl, { id: row.id, caption: row.caption ?? '' })
  }
  return { reusable, inProgress }
}

const md5 = (text: string) => createHash('md5').update(text).digest('hex')

/**
 * How a new caption of `imageUrl` starts from what its caller's captions of that image offer: taking a
 * completed one's text, or waiting for an open one; undefined when neither is there.
 */
export function sameImageStart(found: SameImageCaptions, imageUrl: string): CaptionStart | undefined {
  const source = found.reusable.get(imageUrl)
  if (source) return { kind: 'reuse', from: source }
  const sameImageCaption = found.inProgress.get(imageUrl)
  if (sameImageCaption) return { kind: 'waitFor', sameImageCaption }
  return undefined
}

import type { Sql } from '../db/pool.js'
import { CENTS_PER_TASK } from '../spend/money.js'

/**
 * A caption's resource written by PostgreSQL as JSON text, for reads that send it as it is: the row is
 * never turned into JavaScript values and back (23 columns parsed, three timestamps, the metadata's JSON,
 * then serialized again), which cost a read more than all its hooks together.
 *
 * The same resource as `toCaptionResource` (captions.service.ts) builds from a row, field for field, in
 * the same order; test/integration/caption-json.test.ts holds the two equal. A field added to one is
 * added to the other. Only the spacing inside `metadata` differs: PostgreSQL writes stored JSON with a
 * space after each `:` and `,`.
 *
 * An expression over the captions row aliased `c`.
 */
export const CAPTION_RESOURCE_JSON = `(SELECT row_to_json(resource) FROM (SELECT
    c.id,
    c.status,
    c.image_url AS "imageUrl",
    c.prompt_style AS "promptStyle",
    c.caption_length AS "captionLength",
    c.caption,
    (SELECT row_to_json(error) FROM (SELECT c.error_code AS code, coalesce(c.error_message, '') AS message) error
      WHERE c.error_code <> '') AS error,
    c.goapi_task_id AS "goapiTaskId",
    coalesce(nullif(c.metadata, 'null'), '{}') AS metadata,
    c.callback_url AS "callbackUrl",
    (SELECT row_to_json(callback) FROM (SELECT c.callback_state AS state, c.callback_attempts AS attempts) callback)
      AS callback,
    c.batch_id AS "batchId",
    c.name,
    c.file_name AS "fileName",
    c.reused_from AS "reusedFrom",
    (c.goapi_tasks * ${CENTS_PER_TASK})::float8 / 100 AS "costUsd",
    c.retries,
    ${isoInstant('c.created_at')} AS "createdAt",
    ${isoInstant('c.updated_at')} AS "updatedAt",
    ${isoInstant('c.completed_at')} AS "completedAt"
  ) resource)`

/** An instant as `Date#toISOString` writes it: UTC, milliseconds (the columns keep no more), a `Z`. */
function isoInstant(column: string): string {
  return `to_char(${column} AT TIME ZONE 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS.MS"Z"')`
}

export interface CaptionJson {
  id: string
  goapiTaskId: string | null
  /** The resource's JSON text. */
  resource: string
}

const READ_CALLER_CAPTION_JSON = `SELECT c.id, c.goapi_task_id AS "goapiTaskId", ${CAPTION_RESOURCE_JSON}::text AS resource
  FROM captions c WHERE c.id = $1 AND c.caller = $2`

/** A caption as its caller may see it (as `findCallerCaption` finds it), as its resource's JSON text. */
export async function readCallerCaptionJson(
  sql: Sql,
  id: string,
  caller: string,
): Promise<CaptionJson | null> {
  const { rows } = await sql.query<CaptionJson>({
    name: 'read-caller-caption-json',
    text: READ_CALLER_CAPTION_JSON,
    values: [id, caller],
  })
  return rows[0] ?? null
}

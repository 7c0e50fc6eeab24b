import type pg from 'pg'

/**
 * A long history of finished work, made with SQL as the service leaves it: captions completed (one in
 * twenty failed), spread evenly over `days` ending `endDaysAgo` days ago, among five callers (the
 * bench's own the largest); a tenth of them items of batches (completed, a few hundred); a tenth with
 * a callbackUrl, their callback event and one delivery each (a second for a third of them).
 */
export interface HistorySeed {
  rows: number
  /** The bench's caller: the largest share of the history is its own. */
  caller: string
  days: number
  /** 0: the newest row finished just now; 100: a hundred days ago. */
  endDaysAgo: number
  /** Called after each chunk with how many rows are in so far. */
  onProgress?: (rows: number) => void
}

/** GoAPI task ids of the history's captions begin with it: `history-task-<n>`. */
export const HISTORY_TASK_PREFIX = 'history-task-'
const CHUNK_ROWS = 100_000
export const HISTORY_BATCHES = 300
const ITEMS_PER_BATCH_RANGE = 3_340

/** The share of each caller, of a hundred: the bench's caller, then four others. */
const CALLER_OF = (n: string, caller: string) => `CASE
    WHEN ${n} % 100 < 32 THEN '${caller}' WHEN ${n} % 100 < 57 THEN 'history-b'
    WHEN ${n} % 100 < 77 THEN 'history-c' WHEN ${n} % 100 < 90 THEN 'history-d' ELSE 'history-e' END`

/** Inserts the history in chunks of 100,000 captions (each with its events and deliveries). */
export async function seedHistory(db: pg.Pool, seed: HistorySeed): Promise<void> {
  const params = [seed.rows, seed.days, seed.endDaysAgo]
  // $1 rows, $2 days, $3 days ago the newest finished: row n was created at this instant.
  const createdAt = (n: string) =>
    `now() - make_interval(days => $3::int) - make_interval(secs => ($2::int * 86400.0) * (1 - ${n}::float8 / $1::int))`
  await db.query(
    `INSERT INTO batches (id, caller, total, open_items, prompt_style, caption_length, reuse, created_at,
        updated_at, completed_at)
      SELECT md5('history-batch-' || b)::uuid, ${CALLER_OF('b', seed.caller)}, 0, 0, 'Descriptive', 'any', false,
        ${createdAt(`(b * ${ITEMS_PER_BATCH_RANGE})`)}, ${createdAt(`(b * ${ITEMS_PER_BATCH_RANGE})`)} + interval '10 minutes',
        ${createdAt(`(b * ${ITEMS_PER_BATCH_RANGE})`)} + interval '10 minutes'
      FROM generate_series(0, (($1::int - 1) / ${ITEMS_PER_BATCH_RANGE})::int) AS b`,
    params,
  )
  for (let first = 1; first <= seed.rows; first += CHUNK_ROWS) {
    const last = Math.min(seed.rows, first + CHUNK_ROWS - 1)
    await db.query(
      `WITH made AS (
        INSERT INTO captions (id, caller, status, image_url, prompt_style, caption_length, callback_url, metadata,
            caption, error_code, error_message, goapi_task_id, goapi_task, created_at, updated_at, completed_at,
            submit_state, submit_attempts, submitted_at, poll_attempts, deadline_at, callback_state,
            callback_attempts, batch_id, item_index, name, file_name, goapi_tasks, reserved_cents)
        SELECT uuidv7(created - now()), caller, status::caption_status, image, 'Descriptive', 'any',
          CASE WHEN n % 10 = 0 THEN 'https://hooks.example.com/captions' END, '{"source":"history"}',
          CASE WHEN status = 'completed' THEN text END,
          CASE WHEN status = 'failed' THEN 'goapi_task_failed' END,
          CASE WHEN status = 'failed' THEN 'GoAPI reported the task failed: image could not be read' END,
          '${HISTORY_TASK_PREFIX}' || n,
          jsonb_build_object('task_id', '${HISTORY_TASK_PREFIX}' || n, 'model', 'Qubico/joycaption',
            'task_type', 'joycaption-beta-one', 'status', status,
            'input', jsonb_build_object('image', image, 'prompt_style', 'Descriptive', 'caption_length', 'any'),
            'output', CASE WHEN status = 'completed' THEN jsonb_build_object('text', text) END,
            'meta', jsonb_build_object('created_at', created, 'ended_at', created + interval '20 seconds',
              'usage', jsonb_build_object('type', 'llm', 'consume', 100000))),
          created, created + interval '20 seconds', created + interval '20 seconds',
          'accepted', 1, created + interval '1 second', 1, created + interval '10 minutes',
          (CASE WHEN n % 10 = 0 THEN 'delivered' ELSE 'none' END)::callback_state,
          CASE WHEN n % 30 = 0 THEN 2 WHEN n % 10 = 0 THEN 1 ELSE 0 END,
          CASE WHEN batched THEN md5('history-batch-' || (n / ${ITEMS_PER_BATCH_RANGE}))::uuid END,
          CASE WHEN batched THEN n / 10 END,
          CASE WHEN batched THEN 'image-' || n END,
          CASE WHEN batched THEN 'image-' || n || '.txt' END,
          1, 1
        FROM (
          SELECT n, n % 10 = 5 AS batched,
            CASE WHEN n % 10 = 5 THEN ${CALLER_OF(`(n / ${ITEMS_PER_BATCH_RANGE})`, seed.caller)}
              ELSE ${CALLER_OF('n', seed.caller)} END AS caller,
            CASE WHEN n % 20 = 7 THEN 'failed' ELSE 'completed' END AS status,
            'https://images.example.com/history/' || n || '.jpg' AS image,
            'Photograph ' || n || ': ' || repeat('A vibrant close-up of colourful, textured flower petals arranged by hand. ', 6) AS text,
            ${createdAt('n')} AS created
          FROM generate_series($4::int, $5::int) AS n) AS s
        RETURNING id, callback_url, callback_attempts, completed_at
      ), events AS (
        INSERT INTO callback_events (id, caption_id, type, body, created_at)
        SELECT uuidv7(completed_at - now()), id, 'caption.completed',
          json_build_object('type', 'caption.completed', 'data', json_build_object('id', id))::text, completed_at
        FROM made WHERE callback_url IS NOT NULL
        RETURNING id, caption_id
      )
      INSERT INTO callback_deliveries (id, event_id, attempt, attempted_at, url, status_code, duration_ms, outcome)
      SELECT uuidv7(made.completed_at - now() + make_interval(secs => attempt * 30)), events.id, attempt, made.completed_at + make_interval(secs => attempt * 30),
        made.callback_url, CASE WHEN attempt < made.callback_attempts THEN 503 ELSE 200 END, 40,
        (CASE WHEN attempt < made.callback_attempts THEN 'failed' ELSE 'delivered' END)::delivery_outcome
      FROM events JOIN made ON made.id = events.caption_id, generate_series(1, made.callback_attempts) AS attempt`,
      [...params, first, last],
    )
    seed.onProgress?.(last)
  }
  await db.query(
    `UPDATE batches b SET total = items.count FROM (
        SELECT batch_id, count(*)::int AS count FROM captions WHERE batch_id IS NOT NULL GROUP BY batch_id
      ) AS items WHERE items.batch_id = b.id AND b.id IN (
        SELECT md5('history-batch-' || n)::uuid FROM generate_series(0, (($1::int - 1) / ${ITEMS_PER_BATCH_RANGE})::int) AS n)`,
    [seed.rows],
  )
}

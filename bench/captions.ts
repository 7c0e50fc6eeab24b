import { readFile } from 'node:fs/promises'
import path from 'node:path'
import type pg from 'pg'
import { webhookSecretFor } from '../src/captions/webhook-secret.js'
import { PROJECT_ROOT } from './processes.js'

/** The captions and GoAPI deliveries the load is made of. */

export interface SeededCaption {
  id: string
  taskId: string
  /** Its webhook secret, as the service issued it to GoAPI. */
  secret: string
}

const readFixture = async () =>
  JSON.parse(await readFile(path.join(PROJECT_ROOT, 'test/fixtures/webhook-completed.json'), 'utf8'))

/**
 * `count` captions of `caller` as the service leaves them once GoAPI has accepted their task: pending,
 * task id and task stored, nothing due for a long while. Inserted in one statement.
 */
export async function seedPendingCaptions(
  db: pg.Pool,
  options: { caller: string; taskIdPrefix: string; count: number; webhookSecret: string },
): Promise<SeededCaption[]> {
  const fixture = await readFixture()
  const pendingTask = {
    ...fixture.data,
    status: 'pending',
    output: null,
    logs: [],
    config: { ...fixture.data.config, webhook_config: { endpoint: '', secret: '[REDACTED]' } },
  }
  const { rows } = await db.query<{ id: string; goapi_task_id: string }>(
    `INSERT INTO captions (id, caller, status, image_url, prompt_style, caption_length, metadata, goapi_task_id,
        goapi_task, created_at, updated_at, deadline_at, next_attempt_at, submit_state, submit_attempts,
        submitted_at)
      SELECT uuidv7(), $1, 'pending', 'https://images.example.com/bench/' || n || '.png',
        'Descriptive', 'any', '{"source":"bench"}', $2 || n, $3, now(), now(), now() + interval '1 hour',
        now() + interval '1 hour', 'accepted', 1, now()
      FROM generate_series(1, $4::int) AS n
      RETURNING id, goapi_task_id`,
    [options.caller, options.taskIdPrefix, pendingTask, options.count],
  )
  return rows.map((row) => ({
    id: row.id,
    taskId: row.goapi_task_id,
    secret: webhookSecretFor(row.id, [options.webhookSecret]),
  }))
}

/** GoAPI's completed webhook (test/fixtures/webhook-completed.json), for any task and secret. */
export async function completedWebhookBody(): Promise<(taskId: string, secret: string) => string> {
  const fixture = await readFixture()
  fixture.timestamp = Math.floor(Date.now() / 1000)
  fixture.data.task_id = '@TASK_ID@'
  fixture.data.config.webhook_config = { endpoint: 'http://127.0.0.1/webhooks/goapi', secret: '@SECRET@' }
  // Split once; each request only joins three strings.
  const [head, middle, tail] = JSON.stringify(fixture).split(/@TASK_ID@|@SECRET@/)
  return (taskId, secret) => `${head}${taskId}${middle}${secret}${tail}`
}

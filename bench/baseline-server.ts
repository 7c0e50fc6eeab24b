/**
 * The yardstick of `npm run bench`: plain Fastify + pg doing the least each path needs, on the same
 * captions table as the service. Creation is one INSERT, one create call to GoAPI, one UPDATE; a webhook
 * is one UPDATE by task id; a read is one SELECT by id. Named statements, a pool the size of the
 * service's, no logging, no schema compilation. Run by bench/run.ts, configured through the environment:
 * PORT, DATABASE_URL, GOAPI_BASE_URL, GOAPI_API_KEY, PUBLIC_BASE_URL, WEBHOOK_SECRET, API_TOKENS
 * (one `caller:token` pair).
 */
import { createHmac, randomUUID } from 'node:crypto'
import Fastify from 'fastify'
import pg from 'pg'
import { request } from 'undici'

const POOL_SIZE = 10
const DEADLINE_MS = 3_600_000
const POLL_AFTER_MS = 3_600_000
const LEASE_MS = 60_000
const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/

const env = process.env
const [caller = '', token = ''] = (env.API_TOKENS ?? '').split(':')
const authorization = `Bearer ${token}`
const webhookEndpoint = `${env.PUBLIC_BASE_URL}/webhooks/goapi`
const createTaskUrl = `${env.GOAPI_BASE_URL}/api/v1/task`
const webhookKey = env.WEBHOOK_SECRET ?? ''
const goapiHeaders = { 'x-api-key': env.GOAPI_API_KEY ?? '', 'content-type': 'application/json' }

const pool = new pg.Pool({ connectionString: env.DATABASE_URL, max: POOL_SIZE })

const RESOURCE_COLUMNS = `id, status, image_url, prompt_style, caption_length, caption, error_code, error_message,
  goapi_task_id, metadata, created_at, updated_at, completed_at`

const insertCaption = {
  name: 'baseline_insert_caption',
  text: `INSERT INTO captions (id, caller, status, image_url, prompt_style, caption_length, callback_url,
      callback_state, metadata, created_at, updated_at, deadline_at, next_attempt_at, lease_owner,
      lease_expires_at, submit_state, submitted_at, submit_attempts)
    VALUES ($1, $2, 'queued', $3, $4, $5, $6, $7, $8, $9, $9, $10, $9, 'baseline', $11, 'in_flight', $9, 1)`,
}
const storeTask = {
  name: 'baseline_store_task',
  text: `UPDATE captions SET status = 'pending', goapi_task_id = $2, goapi_task = $3, submit_state = 'accepted',
      lease_owner = NULL, lease_expires_at = NULL, updated_at = $4, next_attempt_at = $5
    WHERE id = $1 RETURNING ${RESOURCE_COLUMNS}`,
}
const applyWebhook = {
  name: 'baseline_apply_webhook',
  text: `UPDATE captions SET status = $2::caption_status, caption = $3, goapi_task = $4, updated_at = now(),
      completed_at = CASE WHEN $2 IN ('completed', 'failed') THEN now() END,
      callback_next_at = CASE WHEN $2 IN ('completed', 'failed') THEN now() END
    WHERE goapi_task_id = $1 AND status NOT IN ('completed', 'failed')`,
}
const readCaption = {
  name: 'baseline_read_caption',
  text: `SELECT ${RESOURCE_COLUMNS} FROM captions WHERE id = $1 AND caller = $2`,
}

interface CaptionRow {
  id: string
  status: string
  image_url: string
  prompt_style: string
  caption_length: string
  caption: string | null
  error_code: string | null
  error_message: string | null
  goapi_task_id: string | null
  metadata: unknown
  created_at: Date
  updated_at: Date
  completed_at: Date | null
}

function toResource(row: CaptionRow) {
  return {
    id: row.id,
    status: row.status,
    imageUrl: row.image_url,
    promptStyle: row.prompt_style,
    captionLength: row.caption_length,
    caption: row.caption,
    error: row.error_code ? { code: row.error_code, message: row.error_message ?? '' } : null,
    goapiTaskId: row.goapi_task_id,
    metadata: row.metadata ?? {},
    createdAt: row.created_at.toISOString(),
    updatedAt: row.updated_at.toISOString(),
    completedAt: row.completed_at?.toISOString() ?? null,
  }
}

interface CreateBody {
  imageUrl?: unknown
  promptStyle?: string
  captionLength?: string
  callbackUrl?: string
  metadata?: object
}

interface WebhookBody {
  data?: { task_id?: unknown; status?: unknown; output?: { text?: string } | null }
}

const app = Fastify({ logger: false })

app.get('/readyz', async () => {
  await pool.query('SELECT 1')
  return { ready: true }
})

app.post<{ Body: CreateBody }>('/captions', async (req, reply) => {
  if (req.headers.authorization !== authorization) return reply.code(401).send({ code: 'unauthorized' })
  const body = req.body
  if (typeof body?.imageUrl !== 'string') return reply.code(400).send({ code: 'validation_failed' })
  const id = randomUUID()
  const now = new Date()
  const promptStyle = body.promptStyle ?? 'Descriptive'
  const captionLength = body.captionLength ?? 'any'
  await pool.query(insertCaption, [
    id,
    caller,
    body.imageUrl,
    promptStyle,
    captionLength,
    body.callbackUrl ?? null,
    body.callbackUrl ? 'pending' : 'none',
    body.metadata ?? {},
    now,
    new Date(now.getTime() + DEADLINE_MS),
    new Date(now.getTime() + LEASE_MS),
  ])
  const secret = `${id}.${createHmac('sha256', webhookKey).update(`caption-webhook:${id}`).digest('base64url')}`
  const response = await request(createTaskUrl, {
    method: 'POST',
    headers: goapiHeaders,
    body: JSON.stringify({
      model: 'Qubico/joycaption',
      task_type: 'joycaption-beta-one',
      input: {
        workflow_type: 'joycaption-beta-one',
        prompt_style: promptStyle,
        caption_length: captionLength,
        image: body.imageUrl,
      },
      config: { webhook_config: { endpoint: webhookEndpoint, secret } },
    }),
  })
  const answer = (await response.body.json()) as { data?: { task_id?: string } }
  const task = answer.data
  if (response.statusCode !== 200 || typeof task?.task_id !== 'string') {
    return reply.code(502).send({ code: 'goapi_unavailable' })
  }
  const stored = new Date()
  const { rows } = await pool.query<CaptionRow>(storeTask, [
    id,
    task.task_id,
    task,
    stored,
    new Date(stored.getTime() + POLL_AFTER_MS),
  ])
  return reply
    .code(202)
    .header('location', `/captions/${id}`)
    .send(toResource(rows[0] as CaptionRow))
})

app.post<{ Body: WebhookBody }>('/webhooks/goapi', async (req, reply) => {
  const task = req.body?.data
  if (typeof task?.task_id !== 'string' || typeof task.status !== 'string') {
    return reply.code(400).send({ code: 'invalid_webhook_payload' })
  }
  await pool.query(applyWebhook, [task.task_id, task.status, task.output?.text ?? null, task])
  return { received: true }
})

app.get<{ Params: { id: string } }>('/captions/:id', async (req, reply) => {
  if (req.headers.authorization !== authorization) return reply.code(401).send({ code: 'unauthorized' })
  if (!UUID.test(req.params.id)) return reply.code(404).send({ code: 'not_found' })
  const { rows } = await pool.query<CaptionRow>(readCaption, [req.params.id, caller])
  const row = rows[0]
  return row ? toResource(row) : reply.code(404).send({ code: 'not_found' })
})

const stop = () => {
  app
    .close()
    .then(() => pool.end())
    .then(
      () => process.exit(0),
      () => process.exit(1),
    )
}
process.once('SIGTERM', stop)
process.once('SIGINT', stop)

await app.listen({ host: '127.0.0.1', port: Number(env.PORT ?? 0) })

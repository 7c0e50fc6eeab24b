import { z } from 'zod'

/** Every variable the service reads, each with its one rule, description and default. */

export const LOG_LEVELS = ['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent'] as const
export type LogLevel = (typeof LOG_LEVELS)[number]

// An empty variable (`FOO=` in a manifest or .env) means "unset", not "the empty string".
const optional = <T extends z.ZodType>(schema: T) =>
  z.preprocess((value) => (value === '' ? undefined : value), schema.optional())

/** A variable with a default: the one place that default is written. */
const withDefault = <T extends z.ZodType>(schema: T, value: NonNullable<z.input<T>>) =>
  z.preprocess((given) => (given === '' ? undefined : given), schema.default(value as never))

const seconds = (description: string, value: number) =>
  withDefault(
    z.coerce.number({ error: 'must be a number of seconds' }).positive({ error: 'must be above 0' }),
    value,
  ).describe(description)

const httpUrl = z.url({ protocol: /^https?$/, error: 'must be an absolute http(s) URL' })

const PORT_RANGE = 'must be an integer from 1 to 65535'
export const MODES = ['auto', 'real', 'zero-setup'] as const

export const variables = z.object({
  PORT: withDefault(
    z.coerce
      .number({ error: PORT_RANGE })
      .int({ error: PORT_RANGE })
      .min(1, { error: PORT_RANGE })
      .max(65535, { error: PORT_RANGE }),
    3000,
  ).describe('TCP port to listen on'),
  SERVICE_MODE: withDefault(z.enum(MODES, { error: 'must be auto, real or zero-setup' }), 'auto').describe(
    'auto: zero-setup when neither GOAPI_API_KEY nor DATABASE_URL is set, real otherwise; real: refuse to start unless real mode is fully configured; zero-setup: the GoAPI simulator answers, on DATABASE_URL or an embedded PostgreSQL, and its captions are marked simulated',
  ),
  HOST: optional(z.string()).describe(
    'Interface to listen on (default 0.0.0.0 in real mode; 127.0.0.1 in zero-setup mode, whose callers are not authenticated)',
  ),
  DATABASE_URL: optional(
    z.url({ protocol: /^postgres(ql)?$/, error: 'must be a postgres:// or postgresql:// URL' }),
  ).describe(
    'PostgreSQL connection string; required in real mode. Unset in zero-setup mode starts an embedded PostgreSQL with data under DATA_DIR',
  ),
  DATA_DIR: optional(z.string()).describe(
    'Where the zero-setup mode keeps its state, the embedded PostgreSQL in postgres/ (default .data in the project)',
  ),
  GOAPI_API_KEY: optional(z.string()).describe(
    'GoAPI key sent as x-api-key; required in real mode (empty counts as unset). Zero-setup mode uses the built-in simulator',
  ),
  GOAPI_BASE_URL: withDefault(httpUrl, 'https://api.goapi.ai').describe('GoAPI origin'),
  PUBLIC_BASE_URL: optional(httpUrl).describe(
    'Origin GoAPI can reach; webhooks go to this + /webhooks/goapi (default http://localhost:$PORT). Real mode: required, https unless the host is loopback',
  ),
  WEBHOOK_SECRET: optional(z.string()).describe(
    'Comma-separated keys for per-caption webhook secrets; the first signs new captions, all verify',
  ),
  LOG_LEVEL: withDefault(z.enum(LOG_LEVELS), 'info').describe('pino log level'),
  API_TOKENS: optional(z.string()).describe(
    'Callers and their bearer tokens, name:token pairs, comma-separated; required with GOAPI_API_KEY unless AUTH_DISABLED',
  ),
  AUTH_DISABLED: withDefault(z.enum(['true', 'false'], { error: 'must be true or false' }), 'false').describe(
    'true lets callers in without a token even with GOAPI_API_KEY set',
  ),
  CALLBACK_ALLOWED_HOSTS: optional(z.string()).describe(
    'Hosts callbackUrl may point at: exact host names and *.suffix patterns, each with an optional :port, comma-separated; empty refuses callbacks in real mode',
  ),
  CALLBACK_SIGNING_SECRET: optional(z.string()).describe(
    'Keys that sign callbacks (Standard Webhooks), whsec_<base64 of 24+ random bytes>, comma-separated; each delivery carries one signature per key. Required with GOAPI_API_KEY when CALLBACK_ALLOWED_HOSTS is set',
  ),
  CALLBACK_RETRY_WINDOW_SECONDS: seconds(
    'A callback not delivered is retried on its schedule until this long after the caption finished',
    86400,
  ),
  RATE_LIMIT_PER_MINUTE: withDefault(z.coerce.number().int().min(1), 600).describe(
    'POST /captions per caller per minute on each replica',
  ),
  RATE_LIMIT_READS_PER_MINUTE: withDefault(z.coerce.number().int().min(1), 6000).describe(
    'GET requests per caller per minute on each route and replica (captions, batches, exports, deliveries, usage)',
  ),
  RESEND_RATE_LIMIT_PER_MINUTE: withDefault(z.coerce.number().int().min(1), 30).describe(
    'Callback resends asked for (POST /captions/{id}/deliveries/retry, POST /batches/{id}/deliveries/retry) per caller per minute on each replica',
  ),
  METRICS_TOKEN: optional(z.string().min(16, { error: 'must be at least 16 characters' })).describe(
    'Bearer token GET /metrics asks scrapes for; unset leaves /metrics to the NetworkPolicy (an internal endpoint: it names callers)',
  ),
  METRICS_REFRESH_SECONDS: seconds(
    'GET /metrics reads its database gauges (open captions, due work) at most this often; scrapes in between get the last reading',
    5,
  ),
  CALLER_BUDGETS: optional(z.string()).describe(
    'Daily spend caps per caller in US dollars, name:dollars pairs, comma-separated (team-a:5,team-b:0.50); counted per UTC day, $0.01 per GoAPI task; callers not listed are unlimited',
  ),
  OVERLOAD_EVENT_LOOP_DELAY_MS: withDefault(
    z.coerce
      .number()
      .int()
      .refine((ms) => ms === 0 || ms >= 10, { error: 'must be 0 (no check) or at least 10' }),
    1000,
  ).describe('Answer 503 while the event loop lags more than this; 0 turns the check off'),
  OVERLOAD_HEAP_USED_MB: optional(z.coerce.number().int().min(16)).describe(
    'Answer 503 while the JavaScript heap holds more than this (default 90% of the heap limit)',
  ),
  GOAPI_TIMEOUT_SECONDS: seconds(
    'Longest wait for GoAPI to answer a call; a create that times out counts as maybe accepted',
    20,
  ),
  GOAPI_POLL_AFTER_SECONDS: seconds('Ask GoAPI about a caption after this long without news', 120),
  GOAPI_POLL_INTERVAL_SECONDS: seconds('First wait between two asks about the same caption; grows x1.5', 30),
  GOAPI_POLL_MAX_INTERVAL_SECONDS: seconds('Longest wait between two asks about the same caption', 600),
  GOAPI_RESUBMIT_AFTER_SECONDS: seconds(
    'After a create call with no clear answer, wait this long for a sign of the task before sending it again',
    300,
  ),
  CAPTION_DEADLINE_SECONDS: seconds(
    'A caption not finished this long after it was first sent to GoAPI fails with code timeout (waiting queued for a free task slot does not count)',
    3600,
  ),
  SHUTDOWN_TIMEOUT_SECONDS: seconds('On SIGTERM, exit within this many seconds', 10),
  WORK_INTERVAL_MS: withDefault(z.coerce.number().int().min(10).max(60_000), 1000).describe(
    'How often each replica looks for background work',
  ),
  WORK_LEASE_SECONDS: seconds('How long a replica holds a caption it works on before others may take it', 60),
  GOAPI_MAX_CONCURRENCY: withDefault(z.coerce.number().int().min(0).max(100_000), 10).describe(
    "Most GoAPI tasks unfinished at once across all replicas (the account's limit); the rest wait queued. 0: no limit",
  ),
  REUSE_WINDOW_DAYS: withDefault(z.coerce.number().min(0).max(3650), 30).describe(
    'A caption of the same image, prompt style and length completed this many days back is reused instead of paid again',
  ),
  RETENTION_DAYS: withDefault(z.coerce.number().int().min(0).max(36_500), 90).describe(
    'Finished captions, their callback events and deliveries, and completed batches are deleted this many days after they finished; open work never is. 0: keep everything',
  ),
  RETENTION_SWEEP_SECONDS: seconds('How often one replica deletes what RETENTION_DAYS no longer keeps', 3600),
  EXPORT_IMAGE_MAX_BYTES: withDefault(
    z.coerce
      .number()
      .int()
      .min(1)
      .max(2 ** 31 - 1),
    20 * 1024 * 1024,
  ).describe(
    'Largest image a zip export with images=true takes into the archive; a larger one is left out and named in batch.jsonl',
  ),
})

import { z } from 'zod'

const LOG_LEVELS = ['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent'] as const

/** Used only without GOAPI_API_KEY, where the simulator answers and nothing is paid for. */
export const DEV_WEBHOOK_SECRET = 'caption-service-dev-webhook-secret'

// An empty variable (`FOO=` in a manifest or .env) means "unset", not "the empty string".
const optional = <T extends z.ZodType>(schema: T) =>
  z.preprocess((value) => (value === '' ? undefined : value), schema.optional())

const seconds = (description: string) =>
  optional(
    z.coerce.number({ error: 'must be a number of seconds' }).positive({ error: 'must be above 0' }),
  ).describe(description)

const httpUrl = z.url({ protocol: /^https?$/, error: 'must be an absolute http(s) URL' })

const envSchema = z
  .object({
    PORT: optional(z.coerce.number().int().min(0).max(65535)).describe(
      'TCP port to listen on (default 3000)',
    ),
    HOST: optional(z.string()).describe('Interface to listen on (default 0.0.0.0)'),
    DATABASE_URL: optional(
      z.url({ protocol: /^postgres(ql)?$/, error: 'must be a postgres:// or postgresql:// URL' }),
    ).describe('PostgreSQL connection string; unset starts an embedded PostgreSQL with data under .data/'),
    GOAPI_API_KEY: optional(z.string()).describe(
      'GoAPI key sent as x-api-key; unset uses the built-in simulator',
    ),
    GOAPI_BASE_URL: optional(httpUrl).describe('GoAPI origin (default https://api.goapi.ai)'),
    PUBLIC_BASE_URL: optional(httpUrl).describe(
      'Origin GoAPI can reach; webhooks go to this + /webhooks/goapi (default http://localhost:$PORT)',
    ),
    WEBHOOK_SECRET: optional(z.string()).describe(
      'Comma-separated keys for per-caption webhook secrets; the first signs new captions, all verify',
    ),
    LOG_LEVEL: optional(z.enum(LOG_LEVELS)).describe('pino log level (default info)'),
    GOAPI_TIMEOUT_SECONDS: seconds(
      'Longest wait for GoAPI to answer a call; a create that times out counts as maybe accepted (default 20)',
    ),
    GOAPI_POLL_AFTER_SECONDS: seconds('Ask GoAPI about a caption after this long without news (default 120)'),
    GOAPI_POLL_INTERVAL_SECONDS: seconds(
      'First wait between two asks about the same caption; grows x1.5 (default 30)',
    ),
    GOAPI_POLL_MAX_INTERVAL_SECONDS: seconds(
      'Longest wait between two asks about the same caption (default 600)',
    ),
    GOAPI_RESUBMIT_AFTER_SECONDS: seconds(
      'After a create call with no clear answer, wait this long for a sign of the task before sending it again (default 300)',
    ),
    CAPTION_DEADLINE_SECONDS: seconds(
      'A caption not finished this long after it was accepted fails with code timeout (default 3600)',
    ),
    SHUTDOWN_TIMEOUT_SECONDS: seconds('On SIGTERM, exit within this many seconds (default 10)'),
    WORK_INTERVAL_MS: optional(z.coerce.number().int().min(10).max(60_000)).describe(
      'How often each replica looks for background work (default 1000)',
    ),
    WORK_LEASE_SECONDS: seconds(
      'How long a replica holds a caption it works on before others may take it (default 60)',
    ),
  })
  .superRefine((env, ctx) => {
    if (env.GOAPI_API_KEY === undefined) return
    for (const name of ['PUBLIC_BASE_URL', 'WEBHOOK_SECRET'] as const) {
      if (env[name] === undefined) {
        ctx.addIssue({ code: 'custom', path: [name], message: 'is required when GOAPI_API_KEY is set' })
      }
    }
    const keys = splitSecrets(env.WEBHOOK_SECRET ?? '')
    if (env.WEBHOOK_SECRET !== undefined && keys.length === 0) {
      ctx.addIssue({ code: 'custom', path: ['WEBHOOK_SECRET'], message: 'holds no key' })
    }
    if (env.WEBHOOK_SECRET !== undefined && keys.some((key) => key.length < 16)) {
      ctx.addIssue({
        code: 'custom',
        path: ['WEBHOOK_SECRET'],
        message: 'every comma-separated key must be at least 16 characters',
      })
    }
  })

export type LogLevel = (typeof LOG_LEVELS)[number]

export interface Config {
  port: number
  host: string
  /** Unset: the service runs its own embedded PostgreSQL. */
  databaseUrl: string | undefined
  goapi: {
    /** Unset: the built-in simulator stands in for GoAPI. */
    apiKey: string | undefined
    baseUrl: string
    timeoutMs: number
  }
  /** Without a trailing slash. */
  publicBaseUrl: string
  /** The first key derives the secrets of new captions; every key is accepted on webhooks. */
  webhookSecrets: string[]
  logLevel: LogLevel
  work: WorkSettings
  shutdownTimeoutMs: number
}

/** Timing of the background work, in milliseconds. */
export interface WorkSettings {
  pollAfterMs: number
  pollIntervalMs: number
  pollMaxIntervalMs: number
  resubmitAfterMs: number
  deadlineMs: number
  intervalMs: number
  leaseMs: number
}

export class ConfigError extends Error {
  constructor(readonly issues: string[]) {
    super(`Invalid configuration:\n${issues.map((issue) => `  - ${issue}`).join('\n')}`)
    this.name = 'ConfigError'
  }
}

function splitSecrets(value: string): string[] {
  return value
    .split(',')
    .map((key) => key.trim())
    .filter((key) => key.length > 0)
}

/** Reads the process environment once, at start; nothing else looks at `process.env`. */
export function loadConfig(env: Record<string, string | undefined>): Config {
  const parsed = envSchema.safeParse(env)
  if (!parsed.success) {
    throw new ConfigError(
      parsed.error.issues.map((issue) => `${issue.path.join('.') || '(environment)'}: ${issue.message}`),
    )
  }
  const values = parsed.data
  const port = values.PORT ?? 3000
  const webhookSecrets = splitSecrets(values.WEBHOOK_SECRET ?? '')
  return {
    port,
    host: values.HOST ?? '0.0.0.0',
    databaseUrl: values.DATABASE_URL,
    goapi: {
      apiKey: values.GOAPI_API_KEY,
      baseUrl: (values.GOAPI_BASE_URL ?? 'https://api.goapi.ai').replace(/\/+$/, ''),
      timeoutMs: (values.GOAPI_TIMEOUT_SECONDS ?? 20) * 1000,
    },
    publicBaseUrl: (values.PUBLIC_BASE_URL ?? `http://localhost:${port}`).replace(/\/+$/, ''),
    webhookSecrets: webhookSecrets.length > 0 ? webhookSecrets : [DEV_WEBHOOK_SECRET],
    logLevel: values.LOG_LEVEL ?? 'info',
    work: {
      pollAfterMs: (values.GOAPI_POLL_AFTER_SECONDS ?? 120) * 1000,
      pollIntervalMs: (values.GOAPI_POLL_INTERVAL_SECONDS ?? 30) * 1000,
      pollMaxIntervalMs: (values.GOAPI_POLL_MAX_INTERVAL_SECONDS ?? 600) * 1000,
      resubmitAfterMs: (values.GOAPI_RESUBMIT_AFTER_SECONDS ?? 300) * 1000,
      deadlineMs: (values.CAPTION_DEADLINE_SECONDS ?? 3600) * 1000,
      intervalMs: values.WORK_INTERVAL_MS ?? 1000,
      leaseMs: (values.WORK_LEASE_SECONDS ?? 60) * 1000,
    },
    shutdownTimeoutMs: (values.SHUTDOWN_TIMEOUT_SECONDS ?? 10) * 1000,
  }
}

/** Every variable the service reads, with its description: the source of `.env.example`. */
export const configVariables = Object.entries(envSchema.shape).map(([name, schema]) => ({
  name,
  description: schema.description ?? '',
}))

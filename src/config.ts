import { fileURLToPath } from 'node:url'
import { z } from 'zod'
import {
  type ApiToken,
  allowedHostsProblem,
  callerBudgetsProblem,
  parseApiTokens,
  parseCallerBudgets,
  signingSecretProblem,
  splitList,
  splitSecrets,
} from './config-lists.js'
import { closestName } from './lib/closest-name.js'

export type { ApiToken }

const LOG_LEVELS = ['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent'] as const

/** Used only without GOAPI_API_KEY, where the simulator answers and nothing is paid for. */
export const DEV_WEBHOOK_SECRET = 'caption-service-dev-webhook-secret'
/**
 * Signs callbacks in the zero-setup mode when CALLBACK_SIGNING_SECRET is unset; printed in its start log
 * so a local receiver can verify them. Never used with GOAPI_API_KEY set.
 */
export const DEV_CALLBACK_SIGNING_SECRET = 'whsec_Y2FwdGlvbi1zZXJ2aWNlLWRldi1jYWxsYmFjay1rZXk='

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
const MODES = ['auto', 'real', 'zero-setup'] as const

const envSchema = z
  .object({
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
    AUTH_DISABLED: withDefault(
      z.enum(['true', 'false'], { error: 'must be true or false' }),
      'false',
    ).describe('true lets callers in without a token even with GOAPI_API_KEY set'),
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
    OVERLOAD_EVENT_LOOP_DELAY_MS: withDefault(z.coerce.number().int().min(10), 1000).describe(
      'Answer 503 while the event loop lags more than this',
    ),
    OVERLOAD_HEAP_USED_MB: optional(z.coerce.number().int().min(16)).describe(
      'Answer 503 while the JavaScript heap holds more than this (default 90% of the heap limit)',
    ),
    GOAPI_TIMEOUT_SECONDS: seconds(
      'Longest wait for GoAPI to answer a call; a create that times out counts as maybe accepted',
      20,
    ),
    GOAPI_POLL_AFTER_SECONDS: seconds('Ask GoAPI about a caption after this long without news', 120),
    GOAPI_POLL_INTERVAL_SECONDS: seconds(
      'First wait between two asks about the same caption; grows x1.5',
      30,
    ),
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
    WORK_LEASE_SECONDS: seconds(
      'How long a replica holds a caption it works on before others may take it',
      60,
    ),
    GOAPI_MAX_CONCURRENCY: withDefault(z.coerce.number().int().min(0).max(100_000), 10).describe(
      "Most GoAPI tasks unfinished at once across all replicas (the account's limit); the rest wait queued. 0: no limit",
    ),
    REUSE_WINDOW_DAYS: withDefault(z.coerce.number().min(0).max(3650), 30).describe(
      'A caption of the same image, prompt style and length completed this many days back is reused instead of paid again',
    ),
  })
  .superRefine((env, ctx) => {
    const tokens = parseApiTokens(env.API_TOKENS ?? '')
    if (typeof tokens === 'string') ctx.addIssue({ code: 'custom', path: ['API_TOKENS'], message: tokens })
    const budgetProblem = callerBudgetsProblem(
      env.CALLER_BUDGETS ?? '',
      typeof tokens === 'string' ? [] : tokens,
    )
    if (budgetProblem !== undefined) {
      ctx.addIssue({ code: 'custom', path: ['CALLER_BUDGETS'], message: budgetProblem })
    }
    // A create call still running must never look abandoned: that is how a caption gets paid twice.
    const callSeconds = env.GOAPI_TIMEOUT_SECONDS
    for (const [name, seconds] of [
      ['WORK_LEASE_SECONDS', env.WORK_LEASE_SECONDS],
      ['GOAPI_RESUBMIT_AFTER_SECONDS', env.GOAPI_RESUBMIT_AFTER_SECONDS],
    ] as const) {
      if (seconds <= callSeconds) {
        ctx.addIssue({
          code: 'custom',
          path: [name],
          message: `must be longer than GOAPI_TIMEOUT_SECONDS (${callSeconds}), or a create still running could be sent again`,
        })
      }
    }
    const signingProblem = signingSecretProblem(env.CALLBACK_SIGNING_SECRET)
    if (signingProblem !== undefined) {
      ctx.addIssue({ code: 'custom', path: ['CALLBACK_SIGNING_SECRET'], message: signingProblem })
    }
    const hostsProblem = allowedHostsProblem(env.CALLBACK_ALLOWED_HOSTS ?? '')
    if (hostsProblem !== undefined) {
      ctx.addIssue({ code: 'custom', path: ['CALLBACK_ALLOWED_HOSTS'], message: hostsProblem })
    }
    // Without authentication every caller is the same anonymous one: a budget per caller means nothing.
    if (env.AUTH_DISABLED === 'true' && env.CALLER_BUDGETS !== undefined) {
      ctx.addIssue({
        code: 'custom',
        path: ['CALLER_BUDGETS'],
        message:
          'cannot be kept with AUTH_DISABLED=true, which does not tell callers apart: unset one of the two',
      })
    }
    if (env.SERVICE_MODE === 'zero-setup' && env.GOAPI_API_KEY !== undefined) {
      ctx.addIssue({
        code: 'custom',
        path: ['GOAPI_API_KEY'],
        message: 'must be unset with SERVICE_MODE=zero-setup, where the GoAPI simulator answers',
      })
    }
    if (modeOf(env) !== 'real') return
    const when =
      env.GOAPI_API_KEY !== undefined
        ? 'when GOAPI_API_KEY is set'
        : env.DATABASE_URL !== undefined
          ? 'when DATABASE_URL is set'
          : 'with SERVICE_MODE=real'
    if (env.GOAPI_API_KEY === undefined) {
      ctx.addIssue({
        code: 'custom',
        path: ['GOAPI_API_KEY'],
        message: `is required ${when} (empty counts as unset); SERVICE_MODE=zero-setup runs the GoAPI simulator instead`,
      })
    }
    if (env.DATABASE_URL === undefined) {
      ctx.addIssue({
        code: 'custom',
        path: ['DATABASE_URL'],
        message: `is required ${when}: only the zero-setup mode starts a database of its own`,
      })
    }
    if (env.CALLBACK_SIGNING_SECRET === undefined && splitList(env.CALLBACK_ALLOWED_HOSTS ?? '').length > 0) {
      ctx.addIssue({
        code: 'custom',
        path: ['CALLBACK_SIGNING_SECRET'],
        message: `is required ${when} and CALLBACK_ALLOWED_HOSTS is set: callbacks are always signed`,
      })
    }
    if (env.API_TOKENS === undefined && env.AUTH_DISABLED !== 'true') {
      ctx.addIssue({
        code: 'custom',
        path: ['API_TOKENS'],
        message: `is required ${when} (or set AUTH_DISABLED=true to let every caller in)`,
      })
    }
    for (const name of ['PUBLIC_BASE_URL', 'WEBHOOK_SECRET'] as const) {
      if (env[name] === undefined) {
        ctx.addIssue({ code: 'custom', path: [name], message: `is required ${when}` })
      }
    }
    // GoAPI delivers webhooks only to public HTTPS; plain http stays for local fakes on this machine.
    if (env.PUBLIC_BASE_URL !== undefined && URL.canParse(env.PUBLIC_BASE_URL)) {
      const url = new URL(env.PUBLIC_BASE_URL)
      if (url.protocol === 'http:' && !isLoopbackHost(url.hostname)) {
        ctx.addIssue({
          code: 'custom',
          path: ['PUBLIC_BASE_URL'],
          message: `must be https in real mode (GoAPI delivers webhooks only over HTTPS); plain http is for loopback hosts only`,
        })
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

type Env = z.infer<typeof envSchema>

/**
 * Zero-setup (simulated captions, development secrets, no authentication) only when asked for by
 * name, or when nothing points at real infrastructure: a lost GOAPI_API_KEY next to a real database
 * must stop the service, not turn it into a demo on production data.
 */
function modeOf(env: Pick<Env, 'SERVICE_MODE' | 'GOAPI_API_KEY' | 'DATABASE_URL'>): Config['mode'] {
  if (env.SERVICE_MODE !== 'auto') return env.SERVICE_MODE
  return env.GOAPI_API_KEY === undefined && env.DATABASE_URL === undefined ? 'zero-setup' : 'real'
}

function isLoopbackHost(hostname: string): boolean {
  const host = hostname.toLowerCase().replace(/^\[(.*)\]$/, '$1')
  return (
    host === 'localhost' || host.endsWith('.localhost') || host === '::1' || /^127(\.\d{1,3}){3}$/.test(host)
  )
}

export interface Config {
  port: number
  host: string
  /** Unset: the service runs its own embedded PostgreSQL. */
  databaseUrl: string | undefined
  /** The zero-setup mode's state (the embedded PostgreSQL's data is in `postgres/` under it). */
  dataDir: string
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
  /** `real` talks to GoAPI and spends money; `zero-setup` talks to the simulator. */
  mode: 'real' | 'zero-setup'
  /** Caller name → token. Empty: callers are not authenticated (zero-setup, or AUTH_DISABLED). */
  apiTokens: ApiToken[]
  callbackAllowedHosts: string[]
  callbacks: CallbackSettings
  rateLimitPerMinute: number
  rateLimitReadsPerMinute: number
  /** Resends of callbacks a caller may ask for per minute. */
  resendRateLimitPerMinute: number
  metrics: {
    /** Undefined: /metrics asks for no token. */
    token: string | undefined
    /** How long a reading of the database gauges is served before the next one. */
    refreshMs: number
  }
  /** Caller → its daily budget in cents (CALLER_BUDGETS); callers not in it are unlimited. */
  budgets: ReadonlyMap<string, number>
  overload: { maxEventLoopDelayMs: number; maxHeapUsedMb: number | undefined }
  work: WorkSettings
  shutdownTimeoutMs: number
}

export interface CallbackSettings {
  /** `whsec_…` secrets; every delivery is signed with each. Empty only in real mode without callbacks. */
  signingSecrets: string[]
  /** How long after its event a callback is still retried by itself. */
  retryWindowMs: number
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
  /** GoAPI tasks unfinished at once across all replicas; 0: no limit. */
  maxConcurrency: number
  /** How old a completed caption may be and still be reused. */
  reuseWindowMs: number
}

export class ConfigError extends Error {
  constructor(readonly issues: string[]) {
    super(`Invalid configuration:\n${issues.map((issue) => `  - ${issue}`).join('\n')}`)
    this.name = 'ConfigError'
  }
}

/** DATABASE_URL alone, for the migration tool: it needs nothing else of the service's configuration. */
export function loadDatabaseUrl(env: Record<string, string | undefined>): string | undefined {
  const parsed = envSchema.shape.DATABASE_URL.safeParse(env.DATABASE_URL)
  if (!parsed.success) {
    throw new ConfigError(parsed.error.issues.map((issue) => `DATABASE_URL: ${issue.message}`))
  }
  return parsed.data
}

/** Reads the process environment once, at start; nothing else looks at `process.env`. */
export function loadConfig(env: Record<string, string | undefined>): Config {
  const parsed = envSchema.safeParse(env)
  const issues = [
    ...unknownVariables(env),
    ...(parsed.error?.issues ?? []).map(
      (issue) => `${issue.path.join('.') || '(environment)'}: ${issue.message}`,
    ),
  ]
  if (!parsed.success || issues.length > 0) throw new ConfigError(issues)
  const values = parsed.data
  const port = values.PORT
  const mode = modeOf(values)
  const webhookSecrets = splitSecrets(values.WEBHOOK_SECRET ?? '')
  return {
    port,
    // Zero-setup lets every caller in and loopback callbacks through: not for other machines to reach.
    host: values.HOST ?? (mode === 'zero-setup' ? '127.0.0.1' : '0.0.0.0'),
    databaseUrl: values.DATABASE_URL,
    dataDir: values.DATA_DIR ?? fileURLToPath(new URL('../.data', import.meta.url)),
    goapi: {
      apiKey: values.GOAPI_API_KEY,
      baseUrl: values.GOAPI_BASE_URL.replace(/\/+$/, ''),
      timeoutMs: values.GOAPI_TIMEOUT_SECONDS * 1000,
    },
    publicBaseUrl: (values.PUBLIC_BASE_URL ?? `http://localhost:${port}`).replace(/\/+$/, ''),
    webhookSecrets: webhookSecrets.length > 0 ? webhookSecrets : [DEV_WEBHOOK_SECRET],
    logLevel: values.LOG_LEVEL,
    mode,
    apiTokens: values.AUTH_DISABLED === 'true' ? [] : (parseApiTokens(values.API_TOKENS ?? '') as ApiToken[]),
    callbackAllowedHosts: splitList(values.CALLBACK_ALLOWED_HOSTS ?? '').map((host) => host.toLowerCase()),
    callbacks: {
      signingSecrets:
        values.CALLBACK_SIGNING_SECRET !== undefined
          ? splitList(values.CALLBACK_SIGNING_SECRET)
          : mode === 'zero-setup'
            ? [DEV_CALLBACK_SIGNING_SECRET]
            : [],
      retryWindowMs: values.CALLBACK_RETRY_WINDOW_SECONDS * 1000,
    },
    rateLimitPerMinute: values.RATE_LIMIT_PER_MINUTE,
    rateLimitReadsPerMinute: values.RATE_LIMIT_READS_PER_MINUTE,
    resendRateLimitPerMinute: values.RESEND_RATE_LIMIT_PER_MINUTE,
    metrics: { token: values.METRICS_TOKEN, refreshMs: values.METRICS_REFRESH_SECONDS * 1000 },
    budgets: parseCallerBudgets(values.CALLER_BUDGETS ?? '') as Map<string, number>,
    overload: {
      maxEventLoopDelayMs: values.OVERLOAD_EVENT_LOOP_DELAY_MS,
      maxHeapUsedMb: values.OVERLOAD_HEAP_USED_MB,
    },
    work: {
      pollAfterMs: values.GOAPI_POLL_AFTER_SECONDS * 1000,
      pollIntervalMs: values.GOAPI_POLL_INTERVAL_SECONDS * 1000,
      pollMaxIntervalMs: values.GOAPI_POLL_MAX_INTERVAL_SECONDS * 1000,
      resubmitAfterMs: values.GOAPI_RESUBMIT_AFTER_SECONDS * 1000,
      deadlineMs: values.CAPTION_DEADLINE_SECONDS * 1000,
      intervalMs: values.WORK_INTERVAL_MS,
      leaseMs: values.WORK_LEASE_SECONDS * 1000,
      maxConcurrency: values.GOAPI_MAX_CONCURRENCY,
      reuseWindowMs: values.REUSE_WINDOW_DAYS * 24 * 60 * 60 * 1000,
    },
    shutdownTimeoutMs: values.SHUTDOWN_TIMEOUT_SECONDS * 1000,
  }
}

const KNOWN_VARIABLES = Object.keys(envSchema.shape)
/** First words of the schema's names that other software uses too: a variable under them may be theirs. */
const SHARED_WORDS = new Set(['API', 'AUTH', 'DATA', 'DATABASE', 'LOG', 'OTEL', 'PUBLIC'])
/**
 * The prefixes that are the service's own, from the schema's names (GOAPI_, CALLBACK_, CALLER_, …): a
 * variable added to the schema brings its prefix along.
 */
export const OWN_PREFIXES = [
  ...new Set(
    KNOWN_VARIABLES.filter((name) => name.includes('_')).map((name) => name.split('_')[0] as string),
  ),
]
  .filter((word) => !SHARED_WORDS.has(word))
  .map((word) => `${word}_`)
/** The GoAPI simulator's own settings, and the links Docker and Kubernetes add for services (`X_PORT_80_TCP`). */
const NOT_OURS = [/^GOAPI_SIM_/, /_SERVICE_(HOST|PORT)(_\w+)?$/, /_PORT(_\d+_(TCP|UDP|SCTP)(_\w+)?)?$/]

/** A misspelled variable under one of the service's prefixes would be silently ignored: name it. */
function unknownVariables(env: Record<string, string | undefined>): string[] {
  return Object.keys(env)
    .filter((name) => OWN_PREFIXES.some((prefix) => name.startsWith(prefix)))
    .filter((name) => !KNOWN_VARIABLES.includes(name) && !NOT_OURS.some((pattern) => pattern.test(name)))
    .map((name) => {
      const closest = closestName(name, KNOWN_VARIABLES)
      return `${name}: is not a variable of this service${closest === undefined ? '' : ` (did you mean ${closest}?)`}`
    })
}

/** Every variable the service reads, with its description and default: the source of `.env.example`. */
export const configVariables = Object.entries(envSchema.shape).map(([name, schema]) => {
  const unset = schema.safeParse(undefined)
  return {
    name,
    description: schema.description ?? '',
    /** The value used when the variable is unset, where it is a fixed value. */
    default: unset.success && unset.data !== undefined ? String(unset.data) : undefined,
  }
})

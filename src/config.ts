import { fileURLToPath } from 'node:url'
import type { z } from 'zod'
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
import { type LogLevel, type MODES, variables } from './config-variables.js'
import { closestName } from './lib/closest-name.js'

export type { ApiToken, LogLevel }

/** Used only without GOAPI_API_KEY, where the simulator answers and nothing is paid for. */
export const DEV_WEBHOOK_SECRET = 'caption-service-dev-webhook-secret'
/**
 * Signs callbacks in the zero-setup mode when CALLBACK_SIGNING_SECRET is unset; printed in its start log
 * so a local receiver can verify them. Never used with GOAPI_API_KEY set.
 */
export const DEV_CALLBACK_SIGNING_SECRET = 'whsec_Y2FwdGlvbi1zZXJ2aWNlLWRldi1jYWxsYmFjay1rZXk='

const envSchema = variables.superRefine((env, ctx) => {
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

type Env = z.infer<typeof envSchema>

/**
 * Zero-setup (simulated captions, development secrets, no authentication) only when asked for by
 * name, or when nothing points at real infrastructure: a lost GOAPI_API_KEY next to a real database
 * must stop the service, not turn it into a demo on production data.
 */
function modeOf(
  env: Pick<Env, 'SERVICE_MODE' | 'GOAPI_API_KEY' | 'DATABASE_URL'>,
): Exclude<(typeof MODES)[number], 'auto'> {
  if (env.SERVICE_MODE !== 'auto') return env.SERVICE_MODE
  return env.GOAPI_API_KEY === undefined && env.DATABASE_URL === undefined ? 'zero-setup' : 'real'
}

function isLoopbackHost(hostname: string): boolean {
  const host = hostname.toLowerCase().replace(/^\[(.*)\]$/, '$1')
  return (
    host === 'localhost' || host.endsWith('.localhost') || host === '::1' || /^127(\.\d{1,3}){3}$/.test(host)
  )
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

/**
 * The service's settings from the variables: what the rest of the service reads (times in
 * milliseconds, lists split, the mode chosen). The `Config` type is this function's result.
 */
function toConfig(values: Env) {
  const port = values.PORT
  const mode = modeOf(values)
  const webhookSecrets = splitSecrets(values.WEBHOOK_SECRET ?? '')
  return {
    port,
    // Zero-setup lets every caller in and loopback callbacks through: not for other machines to reach.
    host: values.HOST ?? (mode === 'zero-setup' ? '127.0.0.1' : '0.0.0.0'),
    /** Unset: the service runs its own embedded PostgreSQL. */
    databaseUrl: values.DATABASE_URL,
    /** The zero-setup mode's state (the embedded PostgreSQL's data is in `postgres/` under it). */
    dataDir: values.DATA_DIR ?? fileURLToPath(new URL('../.data', import.meta.url)),
    goapi: {
      /** Unset: the built-in simulator stands in for GoAPI. */
      apiKey: values.GOAPI_API_KEY,
      baseUrl: values.GOAPI_BASE_URL.replace(/\/+$/, ''),
      timeoutMs: values.GOAPI_TIMEOUT_SECONDS * 1000,
    },
    /** Without a trailing slash. */
    publicBaseUrl: (values.PUBLIC_BASE_URL ?? `http://localhost:${port}`).replace(/\/+$/, ''),
    /** The first key derives the secrets of new captions; every key is accepted on webhooks. */
    webhookSecrets: webhookSecrets.length > 0 ? webhookSecrets : [DEV_WEBHOOK_SECRET],
    logLevel: values.LOG_LEVEL,
    /** `real` talks to GoAPI and spends money; `zero-setup` talks to the simulator. */
    mode,
    /** Caller name → token. Empty: callers are not authenticated (zero-setup, or AUTH_DISABLED). */
    apiTokens: values.AUTH_DISABLED === 'true' ? [] : (parseApiTokens(values.API_TOKENS ?? '') as ApiToken[]),
    callbackAllowedHosts: splitList(values.CALLBACK_ALLOWED_HOSTS ?? '').map((host) => host.toLowerCase()),
    callbacks: {
      /** `whsec_…` secrets; every delivery is signed with each. Empty only in real mode without callbacks. */
      signingSecrets:
        values.CALLBACK_SIGNING_SECRET !== undefined
          ? splitList(values.CALLBACK_SIGNING_SECRET)
          : mode === 'zero-setup'
            ? [DEV_CALLBACK_SIGNING_SECRET]
            : [],
      /** How long after its event a callback is still retried by itself. */
      retryWindowMs: values.CALLBACK_RETRY_WINDOW_SECONDS * 1000,
    },
    rateLimitPerMinute: values.RATE_LIMIT_PER_MINUTE,
    rateLimitReadsPerMinute: values.RATE_LIMIT_READS_PER_MINUTE,
    resendRateLimitPerMinute: values.RESEND_RATE_LIMIT_PER_MINUTE,
    metrics: {
      /** Undefined: /metrics asks for no token. */
      token: values.METRICS_TOKEN,
      /** How long a reading of the database gauges is served before the next one. */
      refreshMs: values.METRICS_REFRESH_SECONDS * 1000,
    },
    /** Caller → its daily budget in cents (CALLER_BUDGETS); callers not in it are unlimited. */
    budgets: parseCallerBudgets(values.CALLER_BUDGETS ?? '') as ReadonlyMap<string, number>,
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
      /** GoAPI tasks unfinished at once across all replicas; 0: no limit. */
      maxConcurrency: values.GOAPI_MAX_CONCURRENCY,
      /** How old a completed caption may be and still be reused. */
      reuseWindowMs: values.REUSE_WINDOW_DAYS * 24 * 60 * 60 * 1000,
      /** How long finished work is kept after it finished; 0: for ever. */
      retentionMs: values.RETENTION_DAYS * 24 * 60 * 60 * 1000,
      retentionSweepMs: values.RETENTION_SWEEP_SECONDS * 1000,
    },
    shutdownTimeoutMs: values.SHUTDOWN_TIMEOUT_SECONDS * 1000,
    /** Largest image a zip export with images=true takes. */
    exportImageMaxBytes: values.EXPORT_IMAGE_MAX_BYTES,
  }
}

const configSchema = envSchema.transform(toConfig)

/** The service's settings, as loadConfig gives them. */
export type Config = z.output<typeof configSchema>
/** Timing of the background work, in milliseconds. */
export type WorkSettings = Config['work']
export type CallbackSettings = Config['callbacks']

/** Reads the process environment once, at start; nothing else looks at `process.env`. */
export function loadConfig(env: Record<string, string | undefined>): Config {
  const parsed = configSchema.safeParse(env)
  const issues = [
    ...unknownVariables(env),
    ...(parsed.error?.issues ?? []).map(
      (issue) => `${issue.path.join('.') || '(environment)'}: ${issue.message}`,
    ),
  ]
  if (!parsed.success || issues.length > 0) throw new ConfigError(issues)
  return parsed.data
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

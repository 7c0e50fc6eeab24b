import path from 'node:path'
import { fileURLToPath } from 'node:url'
import { describe, expect, it } from 'vitest'
import {
  ConfigError,
  configVariables,
  DEV_CALLBACK_SIGNING_SECRET,
  DEV_WEBHOOK_SECRET,
  loadConfig,
  OWN_PREFIXES,
} from '../../src/config.js'

const KEY_ONE = 'first-webhook-key-0123456789'
const KEY_TWO = 'second-webhook-key-0123456789'
/** `whsec_` and the base64 of `bytes` bytes. */
const signingSecret = (bytes: number, fill = 'k') =>
  `whsec_${Buffer.from(fill.repeat(bytes)).toString('base64')}`
const SIGNING_ONE = signingSecret(32, 'a')
const SIGNING_TWO = signingSecret(24, 'b')

/** A complete real-mode environment; tests change one variable at a time. */
const REAL_ENV = {
  PORT: '8080',
  HOST: '127.0.0.1',
  DATABASE_URL: 'postgresql://captions:pw@db.internal:5432/captions',
  GOAPI_API_KEY: 'goapi-key-abcdef',
  GOAPI_BASE_URL: 'https://goapi.example.com',
  PUBLIC_BASE_URL: 'https://captions.example.com',
  WEBHOOK_SECRET: KEY_ONE,
  LOG_LEVEL: 'warn',
  API_TOKENS: 'orders:orders-token-0123456789,billing:billing-token-0123456789',
  CALLBACK_ALLOWED_HOSTS: 'orders.internal, *.svc.cluster.local',
  CALLBACK_SIGNING_SECRET: SIGNING_ONE,
  CALLBACK_RETRY_WINDOW_SECONDS: '3600',
  RATE_LIMIT_PER_MINUTE: '30',
  CALLER_BUDGETS: 'orders:5,billing:0.5',
  OVERLOAD_EVENT_LOOP_DELAY_MS: '500',
  OVERLOAD_HEAP_USED_MB: '512',
}

/** The ConfigError loadConfig throws for `env`; fails the test when it does not throw one. */
function configError(env: Record<string, string | undefined>): ConfigError {
  try {
    loadConfig(env)
  } catch (error) {
    expect(error).toBeInstanceOf(ConfigError)
    return error as ConfigError
  }
  throw new Error('loadConfig accepted the environment')
}

function expectNamed(error: ConfigError, variable: string) {
  expect(error.issues.some((issue) => issue.startsWith(`${variable}:`))).toBe(true)
  expect(error.message).toContain(variable)
}

describe('loadConfig', () => {
  it('when the environment is empty, then every default of the design applies (zero-setup mode)', () => {
    expect(loadConfig({})).toMatchObject({
      port: 3000,
      host: '127.0.0.1',
      databaseUrl: undefined,
      goapi: { apiKey: undefined, baseUrl: 'https://api.goapi.ai' },
      publicBaseUrl: 'http://localhost:3000',
      webhookSecrets: [DEV_WEBHOOK_SECRET],
      logLevel: 'info',
      callbacks: { signingSecrets: [DEV_CALLBACK_SIGNING_SECRET], retryWindowMs: 86_400_000 },
    })
  })

  it('when every variable is set, then each one is parsed into the config', () => {
    expect(loadConfig(REAL_ENV)).toMatchObject({
      port: 8080,
      host: '127.0.0.1',
      databaseUrl: 'postgresql://captions:pw@db.internal:5432/captions',
      goapi: { apiKey: 'goapi-key-abcdef', baseUrl: 'https://goapi.example.com' },
      publicBaseUrl: 'https://captions.example.com',
      webhookSecrets: [KEY_ONE],
      logLevel: 'warn',
      mode: 'real',
      apiTokens: [
        { caller: 'orders', token: 'orders-token-0123456789' },
        { caller: 'billing', token: 'billing-token-0123456789' },
      ],
      callbackAllowedHosts: ['orders.internal', '*.svc.cluster.local'],
      callbacks: { signingSecrets: [SIGNING_ONE], retryWindowMs: 3_600_000 },
      rateLimitPerMinute: 30,
      rateLimitReadsPerMinute: 6000,
      budgets: new Map([
        ['orders', 500],
        ['billing', 50],
      ]),
      overload: { maxEventLoopDelayMs: 500, maxHeapUsedMb: 512 },
    })
  })

  it('when zero-setup mode runs with no HOST, then it listens on loopback only, since callers are not authenticated', () => {
    expect(loadConfig({}).host).toBe('127.0.0.1')
    expect(loadConfig({ API_TOKENS: 'orders:orders-token-0123456789' }).host).toBe('127.0.0.1')
  })

  it('when real mode runs with no HOST, then it listens on every interface', () => {
    expect(loadConfig({ ...REAL_ENV, HOST: undefined }).host).toBe('0.0.0.0')
  })

  it.each([
    ['zero-setup', {}],
    ['real', REAL_ENV],
  ])('when HOST is set in %s mode, then it wins over the default', (_mode, env) => {
    expect(loadConfig({ ...env, HOST: '0.0.0.0' }).host).toBe('0.0.0.0')
    expect(loadConfig({ ...env, HOST: '10.1.2.3' }).host).toBe('10.1.2.3')
  })

  it('when DATA_DIR is unset, then the zero-setup state lives in .data at the project root', () => {
    const projectRoot = fileURLToPath(new URL('../../', import.meta.url))
    expect(loadConfig({}).dataDir).toBe(path.join(projectRoot, '.data'))
    expect(loadConfig({ DATA_DIR: '/var/tmp/captions' }).dataDir).toBe('/var/tmp/captions')
  })

  it('when PORT is set without PUBLIC_BASE_URL, then the public base URL uses that port', () => {
    expect(loadConfig({ PORT: '4123' }).publicBaseUrl).toBe('http://localhost:4123')
  })

  it('when a postgres:// DATABASE_URL is given, then it is accepted as well as postgresql://', () => {
    expect(loadConfig({ ...REAL_ENV, DATABASE_URL: 'postgres://u:p@localhost:5432/db' }).databaseUrl).toBe(
      'postgres://u:p@localhost:5432/db',
    )
  })

  it('when every variable is an empty string, then each counts as unset', () => {
    const empty = Object.fromEntries(configVariables.map(({ name }) => [name, '']))
    expect(Object.keys(empty)).toEqual(expect.arrayContaining(Object.keys(REAL_ENV)))
    expect(loadConfig(empty)).toEqual(loadConfig({}))
  })

  it('when the variables are listed for .env.example, then each has a description', () => {
    for (const variable of configVariables) expect(variable.description, variable.name).not.toBe('')
  })

  it.each(
    configVariables
      .map(({ name }) => name)
      // 0 turns the event-loop check off (below).
      .filter((name) => /_(SECONDS|MS)$/.test(name) && name !== 'OVERLOAD_EVENT_LOOP_DELAY_MS'),
  )('when the duration %s is not a positive number, then a ConfigError names it', (name) => {
    for (const value of ['abc', '0', '-5']) expectNamed(configError({ [name]: value }), name)
  })

  it('when OVERLOAD_EVENT_LOOP_DELAY_MS is 0, then the event-loop check is off; below 10 otherwise, or not a whole number, a ConfigError names it', () => {
    expect(loadConfig({ OVERLOAD_EVENT_LOOP_DELAY_MS: '0' }).overload.maxEventLoopDelayMs).toBe(0)
    expect(loadConfig({ OVERLOAD_EVENT_LOOP_DELAY_MS: '10' }).overload.maxEventLoopDelayMs).toBe(10)
    for (const value of ['abc', '-5', '5', '9', '12.5']) {
      expectNamed(configError({ OVERLOAD_EVENT_LOOP_DELAY_MS: value }), 'OVERLOAD_EVENT_LOOP_DELAY_MS')
    }
  })

  it('when GOAPI_API_KEY is empty, then the simulator mode applies and nothing else is required', () => {
    const config = loadConfig({ GOAPI_API_KEY: '', PUBLIC_BASE_URL: '', WEBHOOK_SECRET: '' })
    expect(config.goapi.apiKey).toBeUndefined()
    expect(config.webhookSecrets).toEqual([DEV_WEBHOOK_SECRET])
  })

  it.each(['abc', '70000', '-1', '80.5'])('when PORT is %j, then a ConfigError names PORT', (port) => {
    expectNamed(configError({ PORT: port }), 'PORT')
  })

  it.each(['mysql://user:pw@localhost:3306/captions', 'not a url', 'http://localhost:5432/captions'])(
    'when DATABASE_URL is %j, then a ConfigError names DATABASE_URL',
    (url) => {
      expectNamed(configError({ DATABASE_URL: url }), 'DATABASE_URL')
    },
  )

  it('when DATABASE_URL is refused, then the error does not repeat its password', () => {
    const error = configError({ DATABASE_URL: 'mysql://user:hunter2-secret@localhost/captions' })
    expect(error.message).not.toContain('hunter2-secret')
  })

  it('when GOAPI_API_KEY is set without PUBLIC_BASE_URL, then a ConfigError names PUBLIC_BASE_URL', () => {
    const error = configError({ ...REAL_ENV, PUBLIC_BASE_URL: undefined })
    expectNamed(error, 'PUBLIC_BASE_URL')
    expect(error.issues.some((issue) => issue.startsWith('WEBHOOK_SECRET'))).toBe(false)
  })

  it('when GOAPI_API_KEY is set without WEBHOOK_SECRET, then a ConfigError names WEBHOOK_SECRET', () => {
    const error = configError({ ...REAL_ENV, WEBHOOK_SECRET: undefined })
    expectNamed(error, 'WEBHOOK_SECRET')
    expect(error.issues.some((issue) => issue.startsWith('PUBLIC_BASE_URL'))).toBe(false)
  })

  it('when GOAPI_API_KEY is set alone, then the ConfigError names both missing variables', () => {
    const error = configError({ GOAPI_API_KEY: 'goapi-key-abcdef' })
    expectNamed(error, 'PUBLIC_BASE_URL')
    expectNamed(error, 'WEBHOOK_SECRET')
  })

  it('when a real key is used with a short WEBHOOK_SECRET, then a ConfigError names WEBHOOK_SECRET', () => {
    expectNamed(configError({ ...REAL_ENV, WEBHOOK_SECRET: 'short' }), 'WEBHOOK_SECRET')
  })

  it('when one of several keys is short in real mode, then a ConfigError names WEBHOOK_SECRET without the key', () => {
    const error = configError({ ...REAL_ENV, WEBHOOK_SECRET: `${KEY_ONE},tiny-key` })
    expectNamed(error, 'WEBHOOK_SECRET')
    expect(error.message).not.toContain('tiny-key')
    expect(error.message).not.toContain(KEY_ONE)
  })

  it.each([',', ' , ', '   '])(
    'when WEBHOOK_SECRET holds no key at all (%j) in real mode, then a ConfigError names WEBHOOK_SECRET',
    (value) => {
      expectNamed(configError({ ...REAL_ENV, WEBHOOK_SECRET: value }), 'WEBHOOK_SECRET')
    },
  )

  it('when WEBHOOK_SECRET holds no key at all in simulator mode, then the config never ends with no key', () => {
    let keys: string[] | undefined
    try {
      keys = loadConfig({ WEBHOOK_SECRET: ' , ' }).webhookSecrets
    } catch (error) {
      expect(error).toBeInstanceOf(ConfigError)
      expectNamed(error as ConfigError, 'WEBHOOK_SECRET')
    }
    if (keys !== undefined) expect(keys.length).toBeGreaterThan(0)
  })

  it('when WEBHOOK_SECRET lists keys separated by commas, then they are split, trimmed and kept in order', () => {
    const config = loadConfig({ ...REAL_ENV, WEBHOOK_SECRET: ` ${KEY_TWO} ,${KEY_ONE}  , ` })
    expect(config.webhookSecrets).toEqual([KEY_TWO, KEY_ONE])
  })

  it('when PUBLIC_BASE_URL and GOAPI_BASE_URL end with slashes, then the slashes are trimmed', () => {
    const config = loadConfig({
      ...REAL_ENV,
      PUBLIC_BASE_URL: 'https://captions.example.com/base///',
      GOAPI_BASE_URL: 'https://goapi.example.com/',
    })
    expect(config.publicBaseUrl).toBe('https://captions.example.com/base')
    expect(config.goapi.baseUrl).toBe('https://goapi.example.com')
  })

  it.each([
    ['PUBLIC_BASE_URL', 'captions.example.com'],
    ['PUBLIC_BASE_URL', 'ftp://captions.example.com'],
    ['GOAPI_BASE_URL', 'not a url'],
  ])('when %s is %j, then a ConfigError names it', (variable, value) => {
    expectNamed(configError({ ...REAL_ENV, [variable]: value }), variable)
  })

  it.each(['verbose', 'INFO-ish', '5'])(
    'when LOG_LEVEL is %j, then a ConfigError names LOG_LEVEL',
    (level) => {
      expectNamed(configError({ LOG_LEVEL: level }), 'LOG_LEVEL')
    },
  )

  it.each(['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent'])(
    'when LOG_LEVEL is %j, then it is taken',
    (level) => {
      expect(loadConfig({ LOG_LEVEL: level }).logLevel).toBe(level)
    },
  )

  it('when several variables are wrong, then the one ConfigError names every one of them', () => {
    const error = configError({ PORT: 'abc', LOG_LEVEL: 'loud', DATABASE_URL: 'mysql://x/y' })
    for (const variable of ['PORT', 'LOG_LEVEL', 'DATABASE_URL']) expectNamed(error, variable)
  })
})

describe('CALLBACK_SIGNING_SECRET', () => {
  it('when it lists keys separated by commas, then they are split, trimmed and kept in order', () => {
    const config = loadConfig({ ...REAL_ENV, CALLBACK_SIGNING_SECRET: ` ${SIGNING_TWO} , ${SIGNING_ONE} ` })
    expect(config.callbacks.signingSecrets).toEqual([SIGNING_TWO, SIGNING_ONE])
  })

  it('when real mode has CALLBACK_ALLOWED_HOSTS but no signing secret, then a ConfigError names CALLBACK_SIGNING_SECRET', () => {
    expectNamed(configError({ ...REAL_ENV, CALLBACK_SIGNING_SECRET: undefined }), 'CALLBACK_SIGNING_SECRET')
    expectNamed(configError({ ...REAL_ENV, CALLBACK_SIGNING_SECRET: '' }), 'CALLBACK_SIGNING_SECRET')
  })

  it('when real mode refuses every callback (no CALLBACK_ALLOWED_HOSTS), then no signing secret is needed and none is made up', () => {
    const config = loadConfig({ ...REAL_ENV, CALLBACK_ALLOWED_HOSTS: '', CALLBACK_SIGNING_SECRET: '' })
    expect(config.callbacks.signingSecrets).toEqual([])
  })

  it('when the zero-setup mode has none, then it signs with the development secret, itself a valid one', () => {
    expect(loadConfig({}).callbacks.signingSecrets).toEqual([DEV_CALLBACK_SIGNING_SECRET])
    expect(loadConfig({ CALLBACK_SIGNING_SECRET: DEV_CALLBACK_SIGNING_SECRET })).toBeDefined()
  })

  it.each([
    ['without the whsec_ prefix', Buffer.from('k'.repeat(32)).toString('base64')],
    ['not base64', 'whsec_not*base64!'],
    ['base64 without its padding', signingSecret(32).replace(/=+$/, '')],
    ['shorter than 24 bytes', signingSecret(23)],
    ['one good key and one bad', `${SIGNING_ONE},whsec_`],
    ['only commas', ' , '],
  ])('when it is %s, then a ConfigError names it without quoting a key', (_, value) => {
    for (const env of [{ ...REAL_ENV, CALLBACK_SIGNING_SECRET: value }, { CALLBACK_SIGNING_SECRET: value }]) {
      const error = configError(env)
      expectNamed(error, 'CALLBACK_SIGNING_SECRET')
      for (const part of value.split(',').filter((key) => key.trim().length > 6)) {
        expect(error.message).not.toContain(part.trim())
      }
    }
  })
})

describe('CALLER_BUDGETS', () => {
  it('when it is unset, then no caller has a budget', () => {
    expect(loadConfig({}).budgets).toEqual(new Map())
    expect(loadConfig({ ...REAL_ENV, CALLER_BUDGETS: '' }).budgets).toEqual(new Map())
  })

  it('when it lists callers and dollars, then each budget is held in whole cents, exactly', () => {
    const config = loadConfig({ CALLER_BUDGETS: ' team-a:5 , team-b:0.50,team.c:0.07,d_e:0,f:19.99,g:3.1, ' })
    expect([...config.budgets]).toEqual([
      ['team-a', 500],
      ['team-b', 50],
      ['team.c', 7],
      ['d_e', 0],
      ['f', 1999],
      ['g', 310],
    ])
  })

  it.each([
    ['a negative amount', 'team-a:-1', 'team-a:-1'],
    ['three decimals', 'team-a:5.001', 'team-a:5.001'],
    ['not a number', 'team-a:five', 'team-a:five'],
    ['an exponent', 'team-a:1e3', 'team-a:1e3'],
    ['no amount', 'team-a:', 'team-a:'],
    ['no colon', 'team-a', 'team-a'],
    ['no name', ':5', ':5'],
    ['a name with a space', 'team a:5', 'team a:5'],
    ['a trailing dot', 'team-a:5.', 'team-a:5.'],
    ['more than an integer column holds', 'team-a:21474837', 'team-a:21474837'],
  ])('when an entry has %s, then a ConfigError names CALLER_BUDGETS and the entry', (_, value, entry) => {
    const error = configError({ CALLER_BUDGETS: `team-b:1,${value}` })
    expectNamed(error, 'CALLER_BUDGETS')
    expect(error.message).toContain(`"${entry}"`)
  })

  it('when a caller is listed twice, then a ConfigError names it', () => {
    const error = configError({ CALLER_BUDGETS: 'team-a:5,team-a:6' })
    expectNamed(error, 'CALLER_BUDGETS')
    expect(error.message).toContain('"team-a" is listed twice')
  })

  it('when callers have tokens and a budget names a caller without one, then a ConfigError names that caller', () => {
    const error = configError({ ...REAL_ENV, CALLER_BUDGETS: 'orders:5,odrers:5' })
    expectNamed(error, 'CALLER_BUDGETS')
    expect(error.message).toContain('"odrers"')
  })

  it('when the largest budget a day can count is given, then it is taken to the cent', () => {
    expect(loadConfig({ CALLER_BUDGETS: 'big:21474836.47' }).budgets.get('big')).toBe(2_147_483_647)
  })
})

describe('timing rules that keep a caption from being paid twice', () => {
  it('when the lease is not longer than a GoAPI call may take, then the config names WORK_LEASE_SECONDS', () => {
    expect(() => loadConfig({ GOAPI_TIMEOUT_SECONDS: '30', WORK_LEASE_SECONDS: '30' })).toThrow(
      /WORK_LEASE_SECONDS/,
    )
  })

  it('when the resubmit wait is not longer than a GoAPI call may take, then the config names GOAPI_RESUBMIT_AFTER_SECONDS', () => {
    expect(() => loadConfig({ GOAPI_TIMEOUT_SECONDS: '5', GOAPI_RESUBMIT_AFTER_SECONDS: '5' })).toThrow(
      /GOAPI_RESUBMIT_AFTER_SECONDS/,
    )
  })

  it('when both are longer than the GoAPI timeout, then the config loads', () => {
    const config = loadConfig({
      GOAPI_TIMEOUT_SECONDS: '3',
      WORK_LEASE_SECONDS: '10',
      GOAPI_RESUBMIT_AFTER_SECONDS: '6',
    })
    expect(config.goapi.timeoutMs).toBe(3_000)
    expect(config.work).toMatchObject({ leaseMs: 10_000, resubmitAfterMs: 6_000 })
  })
})

describe('choosing the mode', () => {
  it('when GOAPI_API_KEY is set without DATABASE_URL, then a ConfigError names DATABASE_URL instead of starting a database of its own', () => {
    const error = configError({ ...REAL_ENV, DATABASE_URL: undefined })
    expectNamed(error, 'DATABASE_URL')
    expect(error.message).toContain('DATABASE_URL: is required when GOAPI_API_KEY is set')
  })

  it.each([
    ['empty', ''],
    ['unset', undefined],
  ])(
    'when DATABASE_URL is set and GOAPI_API_KEY is %s, then a ConfigError names GOAPI_API_KEY rather than running the simulator on that database',
    (_how, key) => {
      const error = configError({ ...REAL_ENV, GOAPI_API_KEY: key })
      expectNamed(error, 'GOAPI_API_KEY')
      expect(error.message).toContain('GOAPI_API_KEY: is required when DATABASE_URL is set')
    },
  )

  it('when only DATABASE_URL is set, then the service refuses to start and names what real mode lacks', () => {
    const error = configError({ DATABASE_URL: REAL_ENV.DATABASE_URL })
    for (const name of ['GOAPI_API_KEY', 'PUBLIC_BASE_URL', 'WEBHOOK_SECRET', 'API_TOKENS']) {
      expectNamed(error, name)
    }
  })

  it('when SERVICE_MODE=zero-setup is asked for with a DATABASE_URL, then the simulator runs on that database', () => {
    expect(loadConfig({ SERVICE_MODE: 'zero-setup', DATABASE_URL: REAL_ENV.DATABASE_URL })).toMatchObject({
      mode: 'zero-setup',
      databaseUrl: REAL_ENV.DATABASE_URL,
      host: '127.0.0.1',
    })
  })

  it('when SERVICE_MODE=zero-setup comes with a GoAPI key, then a ConfigError names GOAPI_API_KEY', () => {
    expectNamed(configError({ ...REAL_ENV, SERVICE_MODE: 'zero-setup' }), 'GOAPI_API_KEY')
  })

  it('when SERVICE_MODE=real is set and nothing else, then a ConfigError names the key and the database', () => {
    const error = configError({ SERVICE_MODE: 'real' })
    expectNamed(error, 'GOAPI_API_KEY')
    expectNamed(error, 'DATABASE_URL')
  })

  it('when SERVICE_MODE is neither auto, real nor zero-setup, then a ConfigError names it', () => {
    expectNamed(configError({ SERVICE_MODE: 'demo' }), 'SERVICE_MODE')
  })

  it('when nothing points at real infrastructure, then the zero-setup mode is chosen', () => {
    expect(loadConfig({}).mode).toBe('zero-setup')
    expect(loadConfig({ SERVICE_MODE: 'auto', GOAPI_API_KEY: '', DATABASE_URL: '' }).mode).toBe('zero-setup')
  })
})

describe('PUBLIC_BASE_URL in real mode', () => {
  it.each(['http://captions.example.com', 'http://10.0.0.5:8080', 'http://127.0.0.1.nip.io'])(
    'when it is plain http to %s, then a ConfigError names PUBLIC_BASE_URL',
    (url) => {
      const error = configError({ ...REAL_ENV, PUBLIC_BASE_URL: url })
      expectNamed(error, 'PUBLIC_BASE_URL')
      expect(error.message).toContain('https')
    },
  )

  it.each([
    'http://127.0.0.1:8080',
    'http://localhost:3000',
    'http://[::1]:3000',
    'https://captions.example.com',
  ])('when it is %s (https, or http on a loopback host for local fakes), then it is accepted', (url) => {
    expect(loadConfig({ ...REAL_ENV, PUBLIC_BASE_URL: url }).publicBaseUrl).toBe(url)
  })
})

describe('variables the service does not know', () => {
  it('when a variable under a known prefix is misspelled, then a ConfigError names it and the closest known name', () => {
    const error = configError({ ...REAL_ENV, GOAPI_MAX_CONCURENCY: '5' })
    expect(error.issues).toContain(
      'GOAPI_MAX_CONCURENCY: is not a variable of this service (did you mean GOAPI_MAX_CONCURRENCY?)',
    )
  })

  it.each([
    'CALLBACK_RETRY_WINDOW_SECOND',
    'CALLER_BUDGET',
    'RATE_LIMIT_PER_MINUT',
    'REUSE_WINDOW_DAY',
    'OVERLOAD_HEAP_USED',
    'SHUTDOWN_TIMEOUT_SECOND',
    'WORK_INTERVAL',
    'CAPTION_DEADLINE_SECOND',
    'SERVICE_MOD',
  ])('when %s is set, then a ConfigError names it', (name) => {
    const error = configError({ [name]: '1' })
    expect(error.issues.some((issue) => issue.startsWith(`${name}: is not a variable of this service`))).toBe(
      true,
    )
  })

  it("when the prefixes are derived, then they are the schema's own ones and not words other software shares", () => {
    expect(OWN_PREFIXES).toEqual(
      expect.arrayContaining([
        'GOAPI_',
        'CALLBACK_',
        'CALLER_',
        'RATE_',
        'REUSE_',
        'OVERLOAD_',
        'SHUTDOWN_',
        'WORK_',
        'CAPTION_',
        'SERVICE_',
      ]),
    )
    for (const shared of ['OTEL_', 'DATABASE_', 'DATA_', 'LOG_', 'API_', 'AUTH_', 'PUBLIC_']) {
      expect(OWN_PREFIXES).not.toContain(shared)
    }
  })

  it('when every variable of the schema is set, then none is taken for an unknown one', () => {
    const everything = Object.fromEntries(configVariables.map((variable) => [variable.name, '']))
    expect(loadConfig({ ...everything }).mode).toBe('zero-setup')
  })

  it.each([
    ['OpenTelemetry', 'OTEL_SERVICE_NAME'],
    ['OpenTelemetry', 'OTEL_EXPORTER_OTLP_ENDPOINT'],
    ["the GoAPI simulator's", 'GOAPI_SIM_FAIL_TASK_RATE'],
    ['a Kubernetes service link', 'CAPTION_SERVICE_SERVICE_HOST'],
    ['a Kubernetes service link', 'CAPTION_SERVICE_PORT_3000_TCP_ADDR'],
    ['a Docker link', 'WORK_PORT'],
    ['an unrelated', 'DATABASE_POOL_SIZE'],
  ])('when %s variable %s is set, then it is left alone', (_whose, name) => {
    expect(() => loadConfig({ [name]: 'x' })).not.toThrow()
  })
})

describe('PORT', () => {
  it.each(['abc', '0', '65536', '1.5', '-1'])(
    'when PORT is %j, then the ConfigError says what a port is',
    (port) => {
      expect(configError({ PORT: port }).issues).toEqual(['PORT: must be an integer from 1 to 65535'])
    },
  )
})

describe('CALLBACK_ALLOWED_HOSTS entries', () => {
  it.each([
    'http://x/y',
    '*.',
    '*',
    'orders..internal',
    '-bad.example',
    'host:0',
    'host:65536',
    'host:',
    'a b',
  ])('when an entry is %j, then a ConfigError names CALLBACK_ALLOWED_HOSTS', (entry) => {
    const error = configError({ ...REAL_ENV, CALLBACK_ALLOWED_HOSTS: `orders.internal,${entry}` })
    expectNamed(error, 'CALLBACK_ALLOWED_HOSTS')
  })

  it('when entries are host names, *.suffix patterns and addresses, each with an optional port, then they are accepted', () => {
    const hosts =
      'orders.internal, *.svc.cluster.local:8080, billing:8080, 127.0.0.1, [::1]:9000, *.example.com'
    expect(loadConfig({ ...REAL_ENV, CALLBACK_ALLOWED_HOSTS: hosts }).callbackAllowedHosts).toEqual([
      'orders.internal',
      '*.svc.cluster.local:8080',
      'billing:8080',
      '127.0.0.1',
      '[::1]:9000',
      '*.example.com',
    ])
  })
})

describe('AUTH_DISABLED', () => {
  it('when AUTH_DISABLED=true comes with CALLER_BUDGETS, then a ConfigError names CALLER_BUDGETS instead of dropping the budgets', () => {
    const error = configError({ ...REAL_ENV, AUTH_DISABLED: 'true', CALLER_BUDGETS: 'orders:5' })
    expectNamed(error, 'CALLER_BUDGETS')
    expect(error.message).toContain('AUTH_DISABLED')
  })

  it('when AUTH_DISABLED=true comes without CALLER_BUDGETS, then the config loads', () => {
    expect(loadConfig({ ...REAL_ENV, AUTH_DISABLED: 'true', CALLER_BUDGETS: '' }).apiTokens).toEqual([])
  })
})

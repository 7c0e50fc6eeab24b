import { existsSync } from 'node:fs'
import path from 'node:path'
import closeWithGrace from 'close-with-grace'
import pino from 'pino'
import { buildApp } from './app.js'
import { ConfigError, DEV_CALLBACK_SIGNING_SECRET, loadConfig } from './config.js'
import { watchDatabase } from './db/database-watch.js'
import type { EmbeddedDatabase } from './db/embedded-postgres.js'
import { openDatabase } from './db/pool.js'
import { createGoapiClient } from './goapi/client.js'
import { makeDirectory } from './lib/directories.js'
import { freePort } from './lib/net.js'
import { settledWithin } from './lib/time-limit.js'
import { loggerOptions } from './logger.js'
import { createServiceDeps } from './service-deps.js'
import { startTracing } from './tracing/start.js'
import { createWorker } from './work/worker.js'

const SIMULATOR_API_KEY = 'simulator'
const STOP_SIGNALS = ['SIGINT', 'SIGTERM'] as const
/**
 * A stop signal repeated this soon is the same request twice: Ctrl-C reaches `npm start` and the
 * service alike, and npm passes it on as well. A later one means "now".
 */
const SAME_REQUEST_MS = 1_000
/** Left of the shutdown time for writing the last log lines and exiting. */
const EXIT_MARGIN_MS = 200

type Stop = (signal: NodeJS.Signals) => void

/** The process: config → database → GoAPI → app → listen → shutdown within the configured time. */
async function main(): Promise<void> {
  if (existsSync('.env')) process.loadEnvFile('.env')
  const config = loadConfig(process.env)
  // Before the logger, the database pool and the app: they are traced from their start (off without an endpoint).
  const tracing = await startTracing(process.env)
  const log = pino(loggerOptions(config.logLevel))
  if (tracing) log.info({ protocol: tracing.protocol }, 'traces are exported over OTLP')

  // Until the service runs, a stop signal ends the process at once (the embedded database with it).
  let stop: Stop = (signal) => {
    log.warn({ signal }, 'stopped while starting')
    process.exit(1)
  }
  for (const signal of STOP_SIGNALS) process.on(signal, () => stop(signal))

  if (config.mode === 'zero-setup') {
    const standIns =
      config.databaseUrl === undefined
        ? 'an embedded PostgreSQL and the GoAPI simulator stand in for the real ones'
        : 'the GoAPI simulator stands in for GoAPI; the database is the one DATABASE_URL names'
    log.warn(
      `*** zero-setup mode (no GOAPI_API_KEY): ${standIns}, for trying the service on this machine ***`,
    )
  }
  // The embedded database and the simulator's state file live there.
  if (config.databaseUrl === undefined || config.goapi.apiKey === undefined) {
    await makeDirectory(config.dataDir).catch((error: Error) => {
      throw new ConfigError([`DATA_DIR: ${error.message}`])
    })
  }
  const cleanups: (() => Promise<void>)[] = []
  // Last of all: spans of the shutdown itself are sent too.
  if (tracing) cleanups.push(() => tracing.shutdown())

  let embedded: EmbeddedDatabase | undefined
  let databaseUrl = config.databaseUrl
  if (databaseUrl === undefined) {
    // Loaded only here: the embedded server is a development dependency, absent from production images.
    const { startEmbeddedPostgres } = await import('./db/embedded-postgres.js')
    // So is the schema engine: a real database is migrated by its own job, never by the server.
    const { applyMigrations } = await import('./db/schema-engine.js')
    embedded = await startEmbeddedPostgres({
      dataDir: path.join(config.dataDir, 'postgres'),
      log,
      avoidPorts: [config.port],
    })
    databaseUrl = embedded.url
    // Only the embedded database is migrated at start; a real one is migrated by `npm run db:migrate`.
    const applied = await applyMigrations(databaseUrl)
    log.info({ applied }, 'embedded database migrated')
  }

  let goapiBaseUrl = config.goapi.baseUrl
  let goapiApiKey = config.goapi.apiKey
  if (goapiApiKey === undefined) {
    // Loaded only here: a real deployment never runs the simulator.
    const { createGoapiSimulator } = await import('./goapi-simulator/simulator.js')
    const simulator = createGoapiSimulator({
      apiKey: SIMULATOR_API_KEY,
      // Captions in flight across a restart need the tasks the previous run's simulator made.
      stateFile: path.join(config.dataDir, 'goapi-simulator.json'),
      logger: { level: 'warn' },
    })
    // Not on the port the service is about to listen on (or the embedded database's).
    const simulatorPort = await freePort([config.port, ...(embedded ? [embedded.port] : [])])
    goapiBaseUrl = await simulator.listen({ host: '127.0.0.1', port: simulatorPort })
    goapiApiKey = SIMULATOR_API_KEY
    cleanups.push(() => simulator.close())
    log.warn(
      { goapiBaseUrl },
      '*** GOAPI_API_KEY is not set: the built-in GoAPI SIMULATOR answers, captions are SIMULATED and nothing is paid ***',
    )
  }
  if (config.callbacks.signingSecrets.includes(DEV_CALLBACK_SIGNING_SECRET)) {
    // A development value, printed so that a local receiver (npm run callbacks:receive) can verify.
    log.warn(
      { callbackSigningSecret: DEV_CALLBACK_SIGNING_SECRET },
      '*** CALLBACK_SIGNING_SECRET is not set: callbacks are signed with the development secret below ***',
    )
  }
  if (config.apiTokens.length === 0) {
    log.warn(
      '*** caller authentication is OFF (no API_TOKENS, or AUTH_DISABLED=true): anyone who reaches this port can create and read captions ***',
    )
  } else {
    log.info({ callers: config.apiTokens.map((entry) => entry.caller) }, 'caller authentication is on')
  }
  const goapi = createGoapiClient({
    baseUrl: goapiBaseUrl,
    apiKey: goapiApiKey,
    headersTimeoutMs: config.goapi.timeoutMs,
    bodyTimeoutMs: config.goapi.timeoutMs,
  })
  cleanups.push(() => goapi.close())

  const database = openDatabase(databaseUrl)
  cleanups.push(() => database.close())
  const watch = watchDatabase({ sql: database.sql, databaseUrl, log })
  cleanups.push(async () => watch.stop())
  await database.warm()
  const deps = createServiceDeps(config, { sql: database.sql, goapi, log })
  const app = await buildApp(config, deps)
  const worker = createWorker(deps)

  /**
   * Everything, the embedded database included, within the shutdown timeout: each step gets what the
   * steps after it leave. Close-with-grace still exits the process if a step overruns its share.
   */
  const total = config.shutdownTimeoutMs
  const shutDown = async ({ err }: { err?: Error }) => {
    if (err) log.error({ err }, 'stopping after an unexpected error')
    const end = Date.now() + total - EXIT_MARGIN_MS
    const databaseMs = embedded ? Math.min(2_000, total * 0.2) : 0
    const cleanupEnd = end - databaseMs
    const workEnd = cleanupEnd - Math.min(500, total * 0.1)
    const [closed] = await Promise.all([
      settledWithin([app.close()], workEnd - Date.now()),
      worker.stop(workEnd - Date.now()),
    ])
    if (!closed) log.warn('requests still in flight when the shutdown time ran out')
    for (const cleanup of cleanups.reverse()) {
      const closing = cleanup().catch((error: unknown) => log.warn({ err: error }, 'a shutdown step failed'))
      await settledWithin([closing], cleanupEnd - Date.now())
    }
    await embedded?.stop(Math.max(100, end - Date.now()))
    log.info('stopped')
  }
  const grace = closeWithGrace({ delay: total, logger: log, skip: [...STOP_SIGNALS] }, shutDown)
  let stopRequestedAt = 0
  stop = (signal) => {
    if (stopRequestedAt === 0) {
      stopRequestedAt = Date.now()
      log.info({ signal }, 'stopping: no new work, finishing what is in flight')
      void grace.close()
    } else if (Date.now() - stopRequestedAt > SAME_REQUEST_MS) {
      log.error({ signal }, `second ${signal}: exiting now`)
      process.exit(1)
    }
  }

  try {
    await app.listen({
      port: config.port,
      host: config.host,
      listenTextResolver: (address) =>
        isLoopback(config.host)
          ? `listening on ${address} (this machine only: set HOST to listen on other interfaces)`
          : `listening on ${address}`,
    })
  } catch (error) {
    const address = `${config.host.includes(':') ? `[${config.host}]` : config.host}:${config.port}`
    const code = (error as { code?: unknown }).code
    const why =
      code === 'EADDRINUSE'
        ? 'is already in use by another process'
        : code === 'EADDRNOTAVAIL'
          ? 'is not an address of this machine'
          : code === 'EACCES'
            ? 'needs privileges this process lacks'
            : `cannot be listened on (${String(code ?? error)})`
    log.fatal({ address, code }, `PORT/HOST: ${address} ${why}; set PORT (or HOST) to another`)
    // What started (the embedded database above all) stops with the process.
    grace.uninstall()
    await settledWithin([shutDown({})], total)
    process.exit(1)
  }
  worker.start()
}

function isLoopback(host: string): boolean {
  return host === 'localhost' || host === '::1' || host.startsWith('127.')
}

main().catch((error: unknown) => {
  if (error instanceof ConfigError) console.error(error.message)
  else console.error('caption-service failed to start:', error)
  process.exit(1)
})

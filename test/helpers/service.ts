import { Writable } from 'node:stream'
import type { FastifyInstance } from 'fastify'
import pino from 'pino'
import { buildApp } from '../../src/app.js'
import { type Config, loadConfig } from '../../src/config.js'
import { openDatabase } from '../../src/db/pool.js'
import { createPrismaClient, type Db } from '../../src/db/prisma.js'
import type { ServiceDeps } from '../../src/deps.js'
import { createGoapiClient, type GoapiClient } from '../../src/goapi/client.js'
import {
  createGoapiSimulator,
  type GoapiSimulator,
  type SimulatorFaults,
} from '../../src/goapi-simulator/simulator.js'
import type { Clock } from '../../src/lib/clock.js'
import { freePort } from '../../src/lib/net.js'
import { loggerOptions } from '../../src/logger.js'
import { createServiceDeps } from '../../src/service-deps.js'
import { createTestDatabase } from './database.js'

export { freePort }

export const TEST_GOAPI_KEY = 'test-goapi-key-0123456789'
export const TEST_WEBHOOK_SECRET = 'test-webhook-secret-0123456789'
/** Two callback signing keys; the service signs with the first unless a test sets CALLBACK_SIGNING_SECRET. */
export const TEST_CALLBACK_SECRETS = [
  `whsec_${Buffer.from('test-callback-signing-key-one-0123').toString('base64')}`,
  `whsec_${Buffer.from('test-callback-signing-key-two-4567').toString('base64')}`,
] as const

export interface TestService {
  app: FastifyInstance
  /** What the app and any worker the test starts are built from. */
  deps: ServiceDeps
  /** A Prisma client on the same database, for what tests check; the service itself sends plain SQL. */
  db: Db
  config: Config & { databaseUrl: string }
  simulator: GoapiSimulator
  goapi: GoapiClient
  /** Every log line the app wrote, parsed. */
  logs: Record<string, unknown>[]
  /** The raw log text, for proving what never appears in it. */
  rawLogs(): string
  baseUrl: string
  databaseUrl: string
  close(): Promise<void>
}

export interface TestServiceOptions {
  faults?: Partial<SimulatorFaults>
  /** Share one GoAPI simulator between replicas; it is then not closed with this service. */
  simulator?: GoapiSimulator
  /** Talk to something other than the simulator (an unreachable address, say). */
  goapi?: GoapiClient
  random?: () => number
  workerId?: string
  clock?: Clock
  env?: Record<string, string>
  /** Reuse a database (two replicas on one database); a fresh one otherwise. */
  databaseUrl?: string
  /** `zero-setup`: a replica whose captions are the simulator's (SERVICE_MODE=zero-setup), marked so. */
  mode?: Config['mode']
}

/**
 * The service as it runs for real, on a loopback port (GoAPI's webhooks need a socket to reach), with
 * the GoAPI simulator in front of it and a database of its own.
 */
export async function startTestService(options: TestServiceOptions = {}): Promise<TestService> {
  const ownSimulator = options.simulator === undefined
  const simulator = options.simulator ?? newSimulator(options.faults)
  const goapiBaseUrl = ownSimulator ? await simulator.listen() : simulatorUrl(simulator)
  const database = options.databaseUrl ? undefined : await createTestDatabase()
  const databaseUrl = options.databaseUrl ?? (database?.url as string)
  const port = await freePort()
  const config: Config & { databaseUrl: string } = {
    ...loadConfig({
      DATABASE_URL: databaseUrl,
      GOAPI_API_KEY: TEST_GOAPI_KEY,
      GOAPI_BASE_URL: goapiBaseUrl,
      PUBLIC_BASE_URL: `http://127.0.0.1:${port}`,
      WEBHOOK_SECRET: TEST_WEBHOOK_SECRET,
      LOG_LEVEL: 'debug',
      PORT: String(port),
      // Real mode needs caller tokens; tests about callers set API_TOKENS and AUTH_DISABLED=false.
      AUTH_DISABLED: 'true',
      CALLBACK_ALLOWED_HOSTS: '127.0.0.1',
      CALLBACK_SIGNING_SECRET: TEST_CALLBACK_SECRETS[0],
      // Tests post captions faster than the simulator finishes them; tests of pacing set their own cap.
      GOAPI_MAX_CONCURRENCY: '0',
      // A busy test machine lags the event loop by seconds, and a loop held past the check's sampling
      // interval leaves it no sample, which it counts as an infinite lag: no event-loop check in tests
      // (the heap's stays; tests of shedding set their own).
      OVERLOAD_EVENT_LOOP_DELAY_MS: '0',
      ...options.env,
    }),
    ...(options.mode === undefined ? {} : { mode: options.mode }),
    databaseUrl,
  }
  const goapi =
    options.goapi ??
    createGoapiClient({ baseUrl: goapiBaseUrl, apiKey: TEST_GOAPI_KEY, headersTimeoutMs: 2_000 })
  const chunks: string[] = []
  const logStream = new Writable({
    write(chunk, _encoding, done) {
      chunks.push(chunk.toString())
      done()
    },
  })
  const connection = openDatabase(databaseUrl)
  await connection.warm()
  const deps = createServiceDeps(config, {
    sql: connection.sql,
    goapi,
    log: pino(loggerOptions(config.logLevel), logStream),
    clock: options.clock,
    random: options.random,
    workerId: options.workerId,
  })
  const app = await buildApp(config, deps)
  await app.listen({ host: '127.0.0.1', port })
  const db = createPrismaClient(databaseUrl)
  // Its first query loads Prisma's query compiler; done here, it cannot slow a test's first check (best
  // effort: some tests point the service at a database that is down).
  await db.$queryRaw`SELECT 1`.catch(() => {})
  return {
    app,
    deps,
    db,
    config,
    simulator,
    goapi,
    get logs() {
      return chunks
        .join('')
        .split('\n')
        .filter(Boolean)
        .map((line) => JSON.parse(line) as Record<string, unknown>)
    },
    rawLogs: () => chunks.join(''),
    baseUrl: `http://127.0.0.1:${port}`,
    databaseUrl,
    async close() {
      await app.close()
      await db.$disconnect()
      await connection.close()
      if (ownSimulator) await simulator.close()
      if (!options.goapi) await goapi.close()
      await database?.drop()
    },
  }
}

function newSimulator(faults: Partial<SimulatorFaults> = {}): GoapiSimulator {
  return createGoapiSimulator({ apiKey: TEST_GOAPI_KEY, faults: { stepDelayMs: 20, ...faults } })
}

/** A listening GoAPI simulator to share between replicas (`startTestService({ simulator })`). */
export async function startSharedSimulator(faults: Partial<SimulatorFaults> = {}): Promise<GoapiSimulator> {
  const simulator = newSimulator(faults)
  await simulator.listen()
  return simulator
}

function simulatorUrl(simulator: GoapiSimulator): string {
  const address = simulator.app.server.address()
  if (!address || typeof address !== 'object')
    throw new Error('start the shared simulator with listen() first')
  return `http://127.0.0.1:${address.port}`
}

/** A clock the test moves by hand: backoff, leases and deadlines without sleeping. */
export function manualClock(start = new Date('2026-01-01T00:00:00Z')) {
  let now = start.getTime()
  return {
    now: () => new Date(now),
    advance(ms: number) {
      now += ms
    },
  }
}

/** Polls until `check` returns a value, failing after `timeoutMs`. */
export async function eventually<T>(check: () => Promise<T | undefined>, timeoutMs = 5_000): Promise<T> {
  const deadline = Date.now() + timeoutMs
  for (;;) {
    const value = await check()
    if (value !== undefined) return value
    if (Date.now() > deadline) throw new Error(`condition not met within ${timeoutMs} ms`)
    await new Promise((resolve) => setTimeout(resolve, 25))
  }
}

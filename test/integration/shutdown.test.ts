import { type ChildProcess, spawn } from 'node:child_process'
import { randomUUID } from 'node:crypto'
import { existsSync } from 'node:fs'
import { fileURLToPath } from 'node:url'
import { afterAll, describe, expect, it } from 'vitest'
import { createPrismaClient } from '../../src/db/prisma.js'
import { createGoapiSimulator, type GoapiSimulator } from '../../src/goapi-simulator/simulator.js'
import { createWorker } from '../../src/work/worker.js'
import { startSilentReceiver } from '../helpers/callback-receiver.js'
import { createTestDatabase } from '../helpers/database.js'
import {
  eventually,
  freePort,
  manualClock,
  startTestService,
  TEST_GOAPI_KEY,
  TEST_WEBHOOK_SECRET,
  type TestService,
} from '../helpers/service.js'
import {
  commandOf,
  isRunning,
  probe,
  type ServiceProcess,
  spawnService,
  tempDataDir,
} from '../helpers/service-process.js'

const PROJECT_ROOT = fileURLToPath(new URL('../../', import.meta.url))

/**
 * A service whose first create call for a caption fails (503), so the caption stays queued for the
 * worker, whose next create call then takes `createLatencyMs`: a submission in flight while it stops.
 */
async function serviceWithQueuedCaption(createLatencyMs: number) {
  const clock = manualClock()
  const service = await startTestService({
    clock,
    workerId: `worker-${randomUUID().slice(0, 8)}`,
    // No webhooks: the caption stays where the submission left it, however slow the machine is.
    faults: { createFailureRate: 1, createFailureStatus: 503, dropWebhookRate: 1 },
  })
  const posted = await service.app.inject({
    method: 'POST',
    url: '/captions',
    payload: { imageUrl: `https://images.example.com/shutdown/${randomUUID()}.png` },
  })
  expect(posted.statusCode).toBe(202)
  const caption = posted.json() as { id: string; status: string }
  expect(caption.status).toBe('queued')

  service.simulator.faults.createFailureRate = 0
  service.simulator.faults.createLatencyMs = createLatencyMs
  clock.advance(10 * 60_000) // well past the submission's backoff
  return { service, captionId: caption.id }
}

/** Starts a worker round in the background and resolves once its create call has reached GoAPI. */
async function roundWithSubmissionInFlight(service: TestService) {
  const worker = createWorker(service.deps)
  const createsBefore = service.simulator.counters.createRequests
  const round = worker.runOnce()
  // Settled here so that an early rejection is not reported as unhandled; asserted by the caller.
  const settled = round.then(
    (handled) => ({ handled }),
    (error: unknown) => ({ error }),
  )
  await eventually(async () => (service.simulator.counters.createRequests > createsBefore ? true : undefined))
  return { worker, settled }
}

function leasedRows(service: TestService) {
  return service.db.caption.findMany({
    where: { leaseOwner: { not: null } },
    select: { id: true, leaseOwner: true },
  })
}

describe('stopping the background worker', () => {
  it('when stop runs out of time while a caller has not answered a callback, then the request is cut short in time, counted as an attempt, and the next one is attempt 2', async () => {
    const clock = manualClock()
    const receiver = await startSilentReceiver()
    const service = await startTestService({ clock })
    try {
      const posted = await service.app.inject({
        method: 'POST',
        url: '/captions',
        payload: {
          imageUrl: `https://images.example.com/shutdown/${randomUUID()}.png`,
          callbackUrl: receiver.url,
        },
      })
      expect(posted.statusCode).toBe(202)
      const { id } = posted.json() as { id: string }
      await eventually(async () => {
        const row = await service.db.caption.findUniqueOrThrow({ where: { id } })
        return row.status === 'completed' ? row : undefined
      })
      const worker = createWorker(service.deps)
      const round = worker.runOnce().catch((error: unknown) => error)
      await eventually(async () => (receiver.received.length === 1 ? true : undefined))

      const started = Date.now()
      await worker.stop(1_000)
      expect(Date.now() - started).toBeLessThan(1_200)
      const row = await service.db.caption.findUniqueOrThrow({ where: { id } })
      expect(row).toMatchObject({ callbackState: 'pending', callbackAttempts: 1, leaseOwner: null })
      expect(row.callbackNextAt?.getTime()).toBeGreaterThan(clock.now().getTime())
      expect(await round).toBe(1)

      receiver.answerFromNowOn()
      clock.advance((row.callbackNextAt as Date).getTime() - clock.now().getTime())
      const next = createWorker(service.deps)
      await next.runOnce()
      await next.stop(1_000)
      expect(receiver.received.map((call) => call.captionId)).toEqual([id, id])
      expect(await service.db.caption.findUniqueOrThrow({ where: { id } })).toMatchObject({
        callbackState: 'delivered',
        callbackAttempts: 2,
      })
    } finally {
      await receiver.close()
      await service.simulator.close()
      await service.close()
    }
  })

  it('when stop is called while a submission is in flight, then it waits for it and no caption keeps a lease', async () => {
    const { service, captionId } = await serviceWithQueuedCaption(500)
    try {
      const { worker, settled } = await roundWithSubmissionInFlight(service)
      expect(await leasedRows(service)).toEqual([{ id: captionId, leaseOwner: service.deps.workerId }])

      const started = Date.now()
      await worker.stop(5_000)
      const elapsed = Date.now() - started

      // It waited for GoAPI's answer and recorded it.
      expect(elapsed).toBeGreaterThanOrEqual(200)
      expect(elapsed).toBeLessThan(5_000)
      const row = await service.db.caption.findUniqueOrThrow({ where: { id: captionId } })
      expect(row).toMatchObject({ status: 'pending', submitState: 'accepted', leaseOwner: null })
      expect(row.goapiTaskId).toEqual(expect.any(String))
      expect(await leasedRows(service)).toEqual([])
      expect(service.simulator.tasks.size).toBe(1)
      expect(await settled).toEqual({ handled: 1 })
    } finally {
      await service.simulator.close()
      await service.close()
    }
  })

  it('when stop is given less time than the work in flight needs, then it returns within about that time and gives the leases back', async () => {
    const { service, captionId } = await serviceWithQueuedCaption(1_500)
    try {
      const { worker, settled } = await roundWithSubmissionInFlight(service)

      const started = Date.now()
      await worker.stop(200)
      const elapsed = Date.now() - started

      expect(elapsed).toBeGreaterThanOrEqual(150)
      expect(elapsed).toBeLessThan(1_000)
      expect(await leasedRows(service)).toEqual([])
      const row = await service.db.caption.findUniqueOrThrow({ where: { id: captionId } })
      expect(row.submitState).toBe('in_flight')

      // The abandoned round still ends on its own, and takes no lease back.
      await settled
      expect(await leasedRows(service)).toEqual([])
    } finally {
      await service.simulator.close()
      await service.close()
    }
  })
})

function serverCommand(): string[] {
  // The built entry when there is one (npm start runs it); the TypeScript source through tsx otherwise.
  if (process.env.SHUTDOWN_TEST_ENTRY !== 'src' && existsSync(`${PROJECT_ROOT}dist/server.js`)) {
    return ['dist/server.js']
  }
  return ['--import', 'tsx', 'src/server.ts']
}

describe('the service process', () => {
  let simulator: GoapiSimulator | undefined
  let database: { url: string; drop: () => Promise<void> } | undefined
  let child: ChildProcess | undefined

  afterAll(async () => {
    if (child && child.exitCode === null && child.signalCode === null) child.kill('SIGKILL')
    await simulator?.close()
    await database?.drop()
  })

  it('when it gets SIGTERM, then it refuses new requests while closing, finishes the one in flight and exits 0 within the timeout', async () => {
    simulator = createGoapiSimulator({ apiKey: TEST_GOAPI_KEY, faults: { stepDelayMs: 20 } })
    const goapiBaseUrl = await simulator.listen()
    database = await createTestDatabase()
    const port = await freePort()
    const baseUrl = `http://127.0.0.1:${port}`

    const output: string[] = []
    const proc = spawn(process.execPath, serverCommand(), {
      cwd: PROJECT_ROOT,
      env: {
        PATH: process.env.PATH,
        HOME: process.env.HOME,
        DATABASE_URL: database.url,
        GOAPI_API_KEY: TEST_GOAPI_KEY,
        AUTH_DISABLED: 'true',
        GOAPI_BASE_URL: goapiBaseUrl,
        PUBLIC_BASE_URL: baseUrl,
        WEBHOOK_SECRET: TEST_WEBHOOK_SECRET,
        PORT: String(port),
        HOST: '127.0.0.1',
        LOG_LEVEL: 'warn',
        SHUTDOWN_TIMEOUT_SECONDS: '5',
      },
      stdio: ['ignore', 'pipe', 'pipe'],
    })
    child = proc
    proc.stdout?.on('data', (chunk: Buffer) => output.push(chunk.toString()))
    proc.stderr?.on('data', (chunk: Buffer) => output.push(chunk.toString()))
    const exited = new Promise<{ code: number | null; signal: NodeJS.Signals | null; at: number }>(
      (resolve) => proc.once('exit', (code, signal) => resolve({ code, signal, at: Date.now() })),
    )
    let hasExited = false
    void exited.then(() => {
      hasExited = true
    })

    try {
      await eventually(async () => {
        if (hasExited) throw new Error('the service exited before it was ready')
        return (await probe(`${baseUrl}/readyz`)) === 200 ? true : undefined
      }, 20_000)

      const first = await fetch(`${baseUrl}/captions`, {
        method: 'POST',
        headers: { 'content-type': 'application/json' },
        body: JSON.stringify({ imageUrl: `https://images.example.com/sigterm/${randomUUID()}.png` }),
      })
      expect(first.status).toBe(202)
      const firstCaption = (await first.json()) as { id: string }

      // A second caption whose create call is still with GoAPI when the signal comes.
      simulator.faults.createLatencyMs = 1_500
      const createsBefore = simulator.counters.createRequests
      const inFlight = fetch(`${baseUrl}/captions`, {
        method: 'POST',
        headers: { 'content-type': 'application/json' },
        body: JSON.stringify({ imageUrl: `https://images.example.com/sigterm/${randomUUID()}.png` }),
      })
      await eventually(async () => (simulator?.counters.createRequests ?? 0) > createsBefore || undefined)

      const signalledAt = Date.now()
      proc.kill('SIGTERM')

      // Closing: a new request is refused or answered 503, never served as ready.
      const whileClosing = await eventually(async () => {
        const result = await probe(`${baseUrl}/readyz`)
        return result === 200 ? undefined : { result, exitedAlready: hasExited }
      }, 5_000)
      expect([503, 'refused']).toContain(whileClosing.result)
      expect(whileClosing.exitedAlready).toBe(false)

      const inFlightReply = await inFlight
      expect(inFlightReply.status).toBe(202)
      const secondCaption = (await inFlightReply.json()) as { id: string; status: string }
      expect(secondCaption.status).toBe('pending')

      const exit = await Promise.race([
        exited,
        new Promise<undefined>((resolve) =>
          setTimeout(() => resolve(undefined), 6_000 - (Date.now() - signalledAt)),
        ),
      ])
      expect(exit, `no exit within 6 s of SIGTERM; output:\n${output.join('')}`).toBeDefined()
      expect(exit).toMatchObject({ code: 0, signal: null })
      expect((exit?.at ?? Number.POSITIVE_INFINITY) - signalledAt).toBeLessThan(6_000)

      // What it acknowledged is in the database, and it left no lease behind.
      const db = createPrismaClient(database.url)
      try {
        const rows = await db.caption.findMany({ select: { id: true, leaseOwner: true } })
        expect(rows.map((row) => row.id).sort()).toEqual([firstCaption.id, secondCaption.id].sort())
        expect(rows.filter((row) => row.leaseOwner !== null)).toEqual([])
      } finally {
        await db.$disconnect()
      }
    } catch (error) {
      console.error(`service output:\n${output.join('')}`)
      throw error
    }
  }, 40_000)
})

describe('the zero-setup process with a callback in flight', () => {
  let dataDir: Awaited<ReturnType<typeof tempDataDir>> | undefined
  let receiver: Awaited<ReturnType<typeof startSilentReceiver>> | undefined
  const started: ServiceProcess[] = []

  afterAll(async () => {
    for (const service of started) service.kill()
    await receiver?.close()
    await dataDir?.remove()
  })

  async function zeroSetup() {
    const service = spawnService({
      env: {
        DATA_DIR: (dataDir as { path: string }).path,
        PORT: String(await freePort()),
        SHUTDOWN_TIMEOUT_SECONDS: '3',
      },
    })
    started.push(service)
    await service.ready()
    return service
  }

  it('when SIGTERM comes while the caller never answers, then everything, its database included, stops within SHUTDOWN_TIMEOUT_SECONDS and the cut-short attempt counts', async () => {
    dataDir = await tempDataDir()
    receiver = await startSilentReceiver()
    const first = await zeroSetup()
    const posted = await fetch(`${first.baseUrl}/captions`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({
        imageUrl: 'https://images.example.com/slow-caller.png',
        callbackUrl: receiver.url,
      }),
    })
    expect(posted.status).toBe(202)
    const { id } = (await posted.json()) as { id: string }
    await eventually(async () => (receiver?.received.length === 1 ? true : undefined), 10_000)

    const signalledAt = Date.now()
    first.proc.kill('SIGTERM')
    const exit = await first.exitWithin(5_000)
    expect(exit, first.output()).toMatchObject({ code: 0 })
    expect((exit?.at ?? Number.POSITIVE_INFINITY) - signalledAt, first.output()).toBeLessThan(3_000)
    expect(first.descendants().filter(isRunning).map(commandOf)).toEqual([])

    // The next start sends it again as the second attempt.
    receiver.answerFromNowOn()
    const second = await zeroSetup()
    const delivered = await eventually(
      async () => second.logs().find((line) => line.msg === 'callback delivered' && line.captionId === id),
      15_000,
    )
    expect(delivered).toMatchObject({ attempt: 2 })
    expect(receiver.received.map((call) => call.captionId)).toEqual([id, id])
    second.proc.kill('SIGTERM')
    expect(await second.exitWithin(5_000)).toMatchObject({ code: 0 })
  }, 60_000)
})

describe('the service process with a request waiting for its caption', () => {
  let simulator: GoapiSimulator | undefined
  let database: { url: string; drop: () => Promise<void> } | undefined
  let child: ChildProcess | undefined

  afterAll(async () => {
    if (child && child.exitCode === null && child.signalCode === null) child.kill('SIGKILL')
    await simulator?.close()
    await database?.drop()
  })

  it('when SIGTERM comes while a request waits (Prefer: wait=60), then it is answered 202 at once and the process exits 0 within the timeout', async () => {
    // The caption never finishes: only the stop can end the wait before its 60 seconds.
    simulator = createGoapiSimulator({
      apiKey: TEST_GOAPI_KEY,
      faults: { stepDelayMs: 20, neverFinishRate: 1 },
    })
    const goapiBaseUrl = await simulator.listen()
    database = await createTestDatabase()
    const port = await freePort()
    const baseUrl = `http://127.0.0.1:${port}`
    const output: string[] = []
    const proc = spawn(process.execPath, serverCommand(), {
      cwd: PROJECT_ROOT,
      env: {
        PATH: process.env.PATH,
        HOME: process.env.HOME,
        DATABASE_URL: database.url,
        GOAPI_API_KEY: TEST_GOAPI_KEY,
        AUTH_DISABLED: 'true',
        GOAPI_BASE_URL: goapiBaseUrl,
        PUBLIC_BASE_URL: baseUrl,
        WEBHOOK_SECRET: TEST_WEBHOOK_SECRET,
        PORT: String(port),
        HOST: '127.0.0.1',
        LOG_LEVEL: 'warn',
        SHUTDOWN_TIMEOUT_SECONDS: '5',
      },
      stdio: ['ignore', 'pipe', 'pipe'],
    })
    child = proc
    proc.stdout?.on('data', (chunk: Buffer) => output.push(chunk.toString()))
    proc.stderr?.on('data', (chunk: Buffer) => output.push(chunk.toString()))
    const exited = new Promise<{ code: number | null; signal: NodeJS.Signals | null; at: number }>(
      (resolve) => proc.once('exit', (code, signal) => resolve({ code, signal, at: Date.now() })),
    )
    try {
      await eventually(async () => ((await probe(`${baseUrl}/readyz`)) === 200 ? true : undefined), 20_000)
      const waiting = fetch(`${baseUrl}/captions`, {
        method: 'POST',
        headers: { 'content-type': 'application/json', prefer: 'wait=60' },
        body: JSON.stringify({ imageUrl: `https://images.example.com/sigterm-wait/${randomUUID()}.png` }),
      })
      // Waiting: GoAPI has the task, and a moment has passed for the wait to begin.
      await eventually(async () => ((simulator?.tasks.size ?? 0) > 0 ? true : undefined))
      await new Promise((resolve) => setTimeout(resolve, 300))

      const signalledAt = Date.now()
      proc.kill('SIGTERM')
      const reply = await waiting
      const answeredAt = Date.now()
      expect(reply.status).toBe(202)
      expect(reply.headers.get('preference-applied')).toBe('wait=60')
      expect(['pending', 'processing']).toContain(((await reply.json()) as { status: string }).status)
      expect(answeredAt - signalledAt).toBeLessThan(1_500)

      const exit = await exited
      expect(exit).toMatchObject({ code: 0, signal: null })
      expect(exit.at - signalledAt).toBeLessThan(5_000)
    } catch (error) {
      console.error(`service output:\n${output.join('')}`)
      throw error
    }
  }, 40_000)
})

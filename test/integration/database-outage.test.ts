import { randomUUID } from 'node:crypto'
import { chmod, mkdtemp, rm } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import path from 'node:path'
import pg from 'pg'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { type EmbeddedDatabase, startEmbeddedPostgres } from '../../src/db/embedded-postgres.js'
import { applyMigrations } from '../../src/db/schema-engine.js'
import { createWorker, type Worker } from '../../src/work/worker.js'
import { goapiDelivery } from '../helpers/deliveries.js'
import { expectErrorReply } from '../helpers/http.js'
import { eventually, startTestService, type TestService } from '../helpers/service.js'

const quiet = { info() {}, debug() {}, warn() {} }
const DATABASE = 'outage'

describe('a PostgreSQL outage and its end, without restarting the service', () => {
  let root: string
  let server: EmbeddedDatabase | undefined
  let dataDir: string
  let port: number
  let service: TestService
  let worker: Worker
  /** A caption GoAPI accepted before the outage; its completed webhook arrives during it. */
  let before: { id: string; taskId: string }
  let delivery: ReturnType<typeof goapiDelivery>
  const refusedImageUrl = `https://images.example.com/outage/${randomUUID()}.png`
  const refusedKey = randomUUID()

  beforeAll(async () => {
    root = await mkdtemp(path.join(tmpdir(), 'caption-outage-'))
    // Under root the server runs as the postgres user, which must be able to enter this directory.
    await chmod(root, 0o755)
    server = await startEmbeddedPostgres({ dataDir: path.join(root, 'pg'), log: quiet, persistent: true })
    dataDir = server.dataDir
    port = server.port
    const admin = new pg.Client({ connectionString: server.url })
    await admin.connect()
    await admin.query(`CREATE DATABASE ${DATABASE}`)
    await admin.end()
    const url = new URL(server.url)
    url.pathname = `/${DATABASE}`
    await applyMigrations(url.toString())

    // GoAPI's own webhooks are dropped: the test sends the one delivery it needs, when it needs it.
    service = await startTestService({ databaseUrl: url.toString(), faults: { dropWebhookRate: 1 } })
    worker = createWorker(service.deps)
    const posted = await service.app.inject({
      method: 'POST',
      url: '/captions',
      payload: { imageUrl: `https://images.example.com/outage/${randomUUID()}.png` },
    })
    expect(posted.statusCode).toBe(202)
    const caption = posted.json() as { id: string; goapiTaskId: string; status: string }
    expect(caption.status).toBe('pending')
    before = { id: caption.id, taskId: caption.goapiTaskId }
    delivery = goapiDelivery({ captionId: before.id, taskId: before.taskId, text: 'A lighthouse at dusk.' })
  })

  afterAll(async () => {
    await worker?.stop(1_000)
    await service?.simulator.close()
    await service?.close()
    await server?.stop()
    if (root) await rm(root, { recursive: true, force: true })
  })

  describe('while the database is down', () => {
    beforeAll(async () => {
      await server?.stop()
      server = undefined
    })

    it('when /readyz and /healthz are asked, then readiness is 503 and liveness stays 200', async () => {
      const ready = await service.app.inject({ method: 'GET', url: '/readyz' })
      expect(ready.statusCode).toBe(503)
      expect(ready.json()).toMatchObject({ status: 'not_ready', checks: { database: 'unreachable' } })
      const live = await service.app.inject({ method: 'GET', url: '/healthz' })
      expect(live.statusCode).toBe(200)
      expect(live.json()).toEqual({ status: 'ok' })
    })

    it('when a valid webhook arrives, then 503 database_unavailable so that GoAPI retries', async () => {
      const reply = await service.app.inject(delivery)
      expectErrorReply(reply, 503, 'database_unavailable')
      expect(reply.headers['retry-after']).toEqual(expect.any(String))
    })

    it('when a caption is posted, then 503 database_unavailable', async () => {
      const tasksBefore = service.simulator.tasks.size
      const reply = await service.app.inject({
        method: 'POST',
        url: '/captions',
        headers: { 'idempotency-key': refusedKey },
        payload: { imageUrl: refusedImageUrl },
      })
      expectErrorReply(reply, 503, 'database_unavailable')
      expect(service.simulator.tasks.size).toBe(tasksBefore)
    })

    it('when the worker runs a round, then it fails or does nothing, and the process carries on', async () => {
      const outcome = await worker.runOnce().then(
        (handled) => ({ handled }),
        (error: unknown) => ({ error }),
      )
      if ('handled' in outcome) expect(outcome.handled).toBe(0)
      else expect(outcome.error).toBeInstanceOf(Error)
      // Still answering.
      expect((await service.app.inject({ method: 'GET', url: '/healthz' })).statusCode).toBe(200)
    })
  })

  describe('after the database is back on the same port', () => {
    beforeAll(async () => {
      server = await startEmbeddedPostgres({ dataDir, log: quiet, persistent: true, port })
    })

    it('when /readyz is asked again, then it soon answers 200', async () => {
      const ready = await eventually(async () => {
        const reply = await service.app.inject({ method: 'GET', url: '/readyz' })
        return reply.statusCode === 200 ? reply : undefined
      }, 10_000)
      expect(ready.json()).toMatchObject({ status: 'ready' })
    })

    it('when the caption posted during the outage is looked for, then nothing of it was written', async () => {
      expect(await service.db.caption.count({ where: { imageUrl: refusedImageUrl } })).toBe(0)
      expect(await service.db.idempotencyKey.count({ where: { caller: '', key: refusedKey } })).toBe(0)
    })

    it('when GoAPI retries the same webhook, then 200 and the caption completes', async () => {
      const reply = await service.app.inject(delivery)
      expect(reply.statusCode).toBe(200)
      expect(reply.json()).toEqual({ received: true, outcome: 'applied' })
      const read = await service.app.inject({ method: 'GET', url: `/captions/${before.id}` })
      expect(read.json()).toMatchObject({ status: 'completed', caption: 'A lighthouse at dusk.' })
    })

    it('when a caption is posted, then 202 as before the outage', async () => {
      const reply = await service.app.inject({
        method: 'POST',
        url: '/captions',
        headers: { 'idempotency-key': refusedKey },
        payload: { imageUrl: refusedImageUrl },
      })
      expect(reply.statusCode).toBe(202)
      expect(reply.json()).toMatchObject({ status: 'pending', imageUrl: refusedImageUrl })
      expect(await service.db.caption.count({ where: { imageUrl: refusedImageUrl } })).toBe(1)
      await expect(worker.runOnce()).resolves.toEqual(expect.any(Number))
    })
  })
})

import pg from 'pg'
import { Client } from 'undici'
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest'
import { readMigrations } from '../../src/db/schema-engine.js'
import { createEmptyDatabase, createTestDatabase } from '../helpers/database.js'
import { expectErrorReply } from '../helpers/http.js'
import { eventually, freePort, startTestService, type TestService } from '../helpers/service.js'

async function adminQuery(sql: string, databaseUrl = inject('postgresUrl')): Promise<void> {
  const client = new pg.Client({ connectionString: databaseUrl })
  await client.connect()
  try {
    await client.query(sql)
  } finally {
    await client.end()
  }
}

function get(service: TestService, url: string) {
  return service.app.inject({ method: 'GET', url })
}

describe('health on a migrated database', () => {
  let service: TestService
  beforeAll(async () => {
    service = await startTestService()
  })
  afterAll(async () => {
    await service.close()
  })

  it("when /healthz is asked, then 200 {status: 'ok'}", async () => {
    const reply = await get(service, '/healthz')
    expect(reply.statusCode).toBe(200)
    expect(reply.json()).toEqual({ status: 'ok' })
  })

  it('when /readyz is asked and every migration is applied, then 200 ready', async () => {
    const reply = await get(service, '/readyz')
    expect(reply.statusCode, reply.body).toBe(200)
    expect(reply.json()).toEqual({ status: 'ready', checks: { database: 'ok', migrations: 'ok' } })
  })
})

describe('health on a database with no migrations', () => {
  let service: TestService
  let database: { url: string; drop: () => Promise<void> }
  beforeAll(async () => {
    database = await createEmptyDatabase()
    service = await startTestService({ databaseUrl: database.url })
  })
  afterAll(async () => {
    await service.close()
    await database.drop()
  })

  it('when /readyz is asked, then 503 not_ready while /healthz stays 200', async () => {
    const ready = await get(service, '/readyz')
    expect(ready.statusCode).toBe(503)
    expect(ready.json()).toMatchObject({ status: 'not_ready' })
    const live = await get(service, '/healthz')
    expect(live.statusCode).toBe(200)
    expect(live.json()).toEqual({ status: 'ok' })
  })

  it('when /readyz is asked, then it reports the database reachable and the migrations missing', async () => {
    const ready = await get(service, '/readyz')
    expect(ready.statusCode).toBe(503)
    const { checks } = ready.json() as { checks: { database: string; migrations: string } }
    expect(checks.database).toBe('ok')
    expect(checks.migrations).not.toBe('ok')
  })
})

describe('health on a database missing the newest migration', () => {
  let service: TestService
  let database: { url: string; drop: () => Promise<void> }
  let newest: string
  beforeAll(async () => {
    database = await createTestDatabase()
    const migrations = (await readMigrations()).migrationDirectories.map((migration) => migration.path)
    newest = migrations.at(-1) as string
    await adminQuery(`DELETE FROM _prisma_migrations WHERE migration_name = '${newest}'`, database.url)
    service = await startTestService({ databaseUrl: database.url })
  })
  afterAll(async () => {
    await service.close()
    await database.drop()
  })

  it('when /readyz is asked, then 503 names the missing migration', async () => {
    const ready = await get(service, '/readyz')
    expect(ready.statusCode).toBe(503)
    expect(ready.json()).toEqual({
      status: 'not_ready',
      checks: { database: 'ok', migrations: expect.stringContaining(newest) },
    })
  })
})

describe('health when the database cannot be reached', () => {
  let service: TestService
  beforeAll(async () => {
    const closedPort = await freePort()
    service = await startTestService({
      databaseUrl: `postgresql://postgres:nobody@127.0.0.1:${closedPort}/captions`,
    })
  })
  afterAll(async () => {
    await service.close()
  })

  it('when /readyz is asked, then 503 database unreachable while /healthz stays 200', async () => {
    const ready = await get(service, '/readyz')
    expect(ready.statusCode).toBe(503)
    expect(ready.json()).toMatchObject({ status: 'not_ready', checks: { database: 'unreachable' } })
    const live = await get(service, '/healthz')
    expect(live.statusCode).toBe(200)
    expect(live.json()).toEqual({ status: 'ok' })
  })

  it('when a caption is posted, then 503 database_unavailable and nothing is sent to GoAPI', async () => {
    const reply = await service.app.inject({
      method: 'POST',
      url: '/captions',
      payload: { imageUrl: 'https://images.example.com/health/down.png' },
    })
    expectErrorReply(reply, 503, 'database_unavailable')
    expect(reply.headers['retry-after']).toEqual(expect.any(String))
    expect(service.simulator.counters.createRequests).toBe(0)
  })
})

describe('health while the service shuts down', () => {
  let service: TestService
  beforeAll(async () => {
    service = await startTestService({ faults: { createLatencyMs: 400, dropWebhookRate: 1 } })
  })
  afterAll(async () => {
    await service.close()
  })

  it('when close starts with a POST in flight, then that POST still gets 202 and a new /readyz is not answered ready', async () => {
    // Pipelining lets /readyz travel on the POST's connection, the one socket a closing server still reads;
    // the server either answers it 503 or ends the connection after the POST's answer.
    const client = new Client(service.baseUrl, { pipelining: 2 })
    try {
      const posted = client.request({
        method: 'POST',
        path: '/captions',
        headers: { 'content-type': 'application/json' },
        body: JSON.stringify({ imageUrl: 'https://images.example.com/health/in-flight.png' }),
      })
      await eventually(async () => (service.simulator.counters.createRequests === 1 ? true : undefined))

      const closing = service.app.close()
      await eventually(async () => (service.app.server.listening ? undefined : true))
      const ready = await client.request({ method: 'GET', path: '/readyz' }).then(
        async (response) => {
          await response.body.dump()
          return response.statusCode
        },
        (error: { code?: string }) => error.code,
      )
      expect([503, 'ECONNREFUSED', 'UND_ERR_SOCKET', 'ECONNRESET']).toContain(ready)

      const reply = await posted
      const caption = (await reply.body.json()) as { id: string; status: string; goapiTaskId: string | null }
      expect(reply.statusCode).toBe(202)
      expect(caption.status).toBe('pending')
      expect(caption.goapiTaskId).toEqual(expect.any(String))
      await closing
      // Acknowledged means committed: the row is there, read straight from PostgreSQL.
      const db = new pg.Client({ connectionString: service.databaseUrl })
      await db.connect()
      try {
        const { rows } = await db.query('SELECT status, goapi_task_id FROM captions WHERE id = $1', [
          caption.id,
        ])
        expect(rows).toEqual([{ status: 'pending', goapi_task_id: caption.goapiTaskId }])
      } finally {
        await db.end()
      }
    } finally {
      await client.close()
    }
  })
})

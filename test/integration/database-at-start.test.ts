import net from 'node:net'
import { afterAll, afterEach, describe, expect, it } from 'vitest'
import { createEmptyDatabase, createTestDatabase } from '../helpers/database.js'
import { expectErrorReply } from '../helpers/http.js'
import {
  eventually,
  freePort,
  startTestService,
  TEST_GOAPI_KEY,
  TEST_WEBHOOK_SECRET,
  type TestService,
} from '../helpers/service.js'
import { type ServiceProcess, spawnService } from '../helpers/service-process.js'

/** Real mode on `databaseUrl`, GoAPI nowhere (nothing here gets as far as calling it). */
async function realModeEnv(databaseUrl: string, port: number): Promise<Record<string, string>> {
  return {
    DATABASE_URL: databaseUrl,
    GOAPI_API_KEY: TEST_GOAPI_KEY,
    GOAPI_BASE_URL: `http://127.0.0.1:${await freePort()}`,
    PUBLIC_BASE_URL: `http://127.0.0.1:${port}`,
    WEBHOOK_SECRET: TEST_WEBHOOK_SECRET,
    AUTH_DISABLED: 'true',
    PORT: String(port),
    HOST: '127.0.0.1',
    LOG_LEVEL: 'info',
  }
}

describe('a database that cannot be used when the service starts', () => {
  const started: ServiceProcess[] = []
  afterEach(() => {
    for (const service of started.splice(0)) service.kill()
  })

  it.each([
    [
      'a wrong password',
      { password: 'wrong-password-in-url' },
      'password authentication failed for user "postgres"',
    ],
    [
      'a database that does not exist',
      { pathname: '/no_such_database' },
      'database "no_such_database" does not exist',
    ],
    ['a port nothing listens on', { port: 'free' }, /^connect ECONNREFUSED 127\.0\.0\.1:\d+$/],
  ] as const)(
    'when DATABASE_URL has %s, then one line names DATABASE_URL and the reason at a growing interval, /readyz says why, and no stack trace is logged',
    async (_case, change, reason) => {
      const database = await createTestDatabase()
      const url = new URL(database.url)
      if ('password' in change) url.password = change.password
      if ('pathname' in change) url.pathname = change.pathname
      if ('port' in change) url.port = String(await freePort())
      const address = `127.0.0.1:${url.port}${url.pathname}`
      const port = await freePort()
      const service = spawnService({ env: await realModeEnv(url.toString(), port) })
      started.push(service)
      try {
        const lines = () =>
          service.logs().filter((line) => String(line.msg).startsWith(`DATABASE_URL (${address})`))
        await eventually(async () => (lines().length >= 3 ? true : undefined), 15_000)
        for (const line of lines()) {
          expect(line.level).toBe(50)
          expect(line.reason).toMatch(reason)
          expect(line.msg).toContain(
            `DATABASE_URL (${address}) cannot be used: ${line.reason}; trying again in`,
          )
        }
        expect(
          lines()
            .slice(0, 3)
            .map((line) => line.retryInMs),
        ).toEqual([1_000, 2_000, 4_000])

        const ready = await fetch(`${service.baseUrl}/readyz`)
        expect(ready.status).toBe(503)
        const readiness = (await ready.json()) as { status: string; reason: string }
        expect(readiness.status).toBe('not_ready')
        expect(readiness.reason).toMatch(reason)
        const posted = await fetch(`${service.baseUrl}/captions`, {
          method: 'POST',
          headers: { 'content-type': 'application/json' },
          body: JSON.stringify({ imageUrl: 'https://images.example.com/a.png' }),
        })
        expect(posted.status).toBe(503)
        expect(((await posted.json()) as { code: string }).code).toBe('database_unavailable')

        // Only the made-up password is distinctive enough to look for (the test server's is a common word).
        if ('password' in change) expect(service.output()).not.toContain(change.password)
        // Once the refused request is logged, everything before it is too.
        await eventually(async () =>
          service.logs().some((line) => line.msg === 'request refused: database') ? true : undefined,
        )
        expect(service.output()).not.toMatch(/\n\s+at /)
        expect(service.logs().filter((line) => line.err !== undefined)).toEqual([])
      } finally {
        service.kill()
        await database.drop()
      }
    },
    30_000,
  )

  it('when the port is taken, then one line names PORT/HOST and the address, and the process exits 1 without a stack trace', async () => {
    const database = await createTestDatabase()
    const taken = net.createServer()
    const port = await new Promise<number>((resolve) =>
      taken.listen(0, '127.0.0.1', () => resolve((taken.address() as net.AddressInfo).port)),
    )
    const service = spawnService({ env: await realModeEnv(database.url, port) })
    started.push(service)
    try {
      const exit = await service.exitWithin(20_000)
      expect(exit?.code).toBe(1)
      const refusals = service.logs().filter((line) => String(line.msg).startsWith('PORT/HOST:'))
      expect(refusals.map((line) => line.msg)).toEqual([
        `PORT/HOST: 127.0.0.1:${port} is already in use by another process; set PORT (or HOST) to another`,
      ])
      expect(service.output()).not.toMatch(/\n\s+at /)
    } finally {
      taken.close()
      await database.drop()
    }
  }, 30_000)
})

describe('a reachable database that is not migrated', () => {
  let service: TestService
  let empty: Awaited<ReturnType<typeof createEmptyDatabase>>

  afterAll(async () => {
    await service?.close()
    await empty?.drop()
  })

  it('when callers use any route, then 503 database_not_migrated naming npm run db:migrate with Retry-After, never 500', async () => {
    empty = await createEmptyDatabase()
    service = await startTestService({ databaseUrl: empty.url })
    const requests = [
      { method: 'POST', url: '/captions', payload: { imageUrl: 'https://images.example.com/a.png' } },
      { method: 'GET', url: '/captions' },
      { method: 'GET', url: '/captions/00000000-0000-4000-8000-000000000000' },
      {
        method: 'POST',
        url: '/batches',
        payload: { items: [{ imageUrl: 'https://images.example.com/b.png' }] },
      },
      { method: 'GET', url: '/batches' },
      { method: 'GET', url: '/usage' },
    ] as const
    for (const request of requests) {
      const reply = await service.app.inject(request)
      const body = expectErrorReply(reply, 503, 'database_not_migrated')
      expect(body.message).toContain('npm run db:migrate')
      expect(reply.headers['retry-after']).toBe('30')
    }
    const ready = await service.app.inject({ url: '/readyz' })
    expect(ready.statusCode).toBe(503)
    expect(ready.json()).toMatchObject({ checks: { migrations: 'not applied (run npm run db:migrate)' } })
  })
})

import { randomUUID } from 'node:crypto'
import pg from 'pg'
import { request } from 'undici'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import type { GoapiSimulator } from '../../src/goapi-simulator/simulator.js'
import { NOTICES_APPLICATION_NAME } from '../../src/service-deps.js'
import { expectErrorReply } from '../helpers/http.js'
import { eventually, startSharedSimulator, startTestService, type TestService } from '../helpers/service.js'

interface CaptionBody {
  id: string
  status: string
  caption: string | null
  reusedFrom: string | null
}

function uniqueImageUrl(): string {
  return `https://images.example.com/prefer-wait/${randomUUID()}.png`
}

/** POST /captions over a real socket (a wait is about a held connection), with the headers given. */
async function postOverHttp(
  replica: TestService,
  body: Record<string, unknown>,
  headers: Record<string, string> = {},
  signal?: AbortSignal,
) {
  const started = Date.now()
  const reply = await request(`${replica.baseUrl}/captions`, {
    method: 'POST',
    headers: { 'content-type': 'application/json', ...headers },
    body: JSON.stringify(body),
    signal,
    headersTimeout: 120_000,
    bodyTimeout: 120_000,
  })
  const text = await reply.body.text()
  return {
    statusCode: reply.statusCode,
    headers: reply.headers,
    body: JSON.parse(text) as CaptionBody,
    elapsedMs: Date.now() - started,
  }
}

/** The GoAPI task id of a caption, once it has one. */
function taskIdOf(replica: TestService, imageUrl: string): Promise<string> {
  return eventually(async () => {
    const row = await replica.db.caption.findFirst({ where: { imageUrl } })
    return row?.goapiTaskId ?? undefined
  })
}

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms))

describe('POST /captions with Prefer: wait, two replicas on one database', () => {
  let simulator: GoapiSimulator
  let webhookReplica: TestService
  let waitingReplica: TestService

  beforeAll(async () => {
    // Tasks finish only when a test says so.
    simulator = await startSharedSimulator({ neverFinishRate: 1 })
    webhookReplica = await startTestService({ simulator, workerId: 'webhooks' })
    // GoAPI's webhooks for the waiting replica's captions land on the other replica.
    waitingReplica = await startTestService({
      simulator,
      workerId: 'waits',
      databaseUrl: webhookReplica.databaseUrl,
      env: { PUBLIC_BASE_URL: webhookReplica.baseUrl },
    })
  })
  afterAll(async () => {
    await simulator?.close()
    await waitingReplica?.close()
    await webhookReplica?.close()
  })

  it('when the caption finishes on another replica within the wait, then the waiting one answers 200 with it at once', async () => {
    const imageUrl = uniqueImageUrl()
    const answer = postOverHttp(waitingReplica, { imageUrl }, { prefer: 'wait=20' })
    const taskId = await taskIdOf(waitingReplica, imageUrl)
    await sleep(500)
    const finishedAt = Date.now()
    simulator.finishTask(taskId)
    const reply = await answer

    expect(reply.statusCode).toBe(200)
    expect(reply.headers['preference-applied']).toBe('wait=20')
    expect(reply.headers.location).toBe(`/captions/${reply.body.id}`)
    expect(reply.body.status).toBe('completed')
    expect(reply.body.caption).toEqual(expect.any(String))
    expect(reply.elapsedMs).toBeGreaterThanOrEqual(500)
    // Heard, not polled for: well within a second of the webhook.
    expect(Date.now() - finishedAt).toBeLessThan(3_000)
    const webhookOn = (replica: TestService) =>
      replica.logs.some((line) => (line.req as { url?: string } | undefined)?.url === '/webhooks/goapi')
    expect(webhookOn(webhookReplica)).toBe(true)
    expect(webhookOn(waitingReplica)).toBe(false)
    expect(waitingReplica.deps.finishedCaptions.subscribers()).toBe(0)
  })

  it('when a caption nobody waits for finishes, then nothing is announced; a caption a request waits for is', async () => {
    const listener = new pg.Client({ connectionString: webhookReplica.databaseUrl })
    await listener.connect()
    const announced: string[] = []
    listener.on('notification', (notice) => {
      if (notice.channel === 'caption_finished' && notice.payload) announced.push(notice.payload)
    })
    await listener.query('LISTEN caption_finished')
    try {
      const plainUrl = uniqueImageUrl()
      const plain = await postOverHttp(waitingReplica, { imageUrl: plainUrl })
      simulator.finishTask(await taskIdOf(waitingReplica, plainUrl))
      await eventually(async () => {
        const row = await webhookReplica.db.caption.findUnique({ where: { id: plain.body.id } })
        return row?.status === 'completed' ? true : undefined
      })

      const awaitedUrl = uniqueImageUrl()
      const answer = postOverHttp(waitingReplica, { imageUrl: awaitedUrl }, { prefer: 'wait=20' })
      const taskId = await taskIdOf(waitingReplica, awaitedUrl)
      await eventually(async () =>
        waitingReplica.deps.finishedCaptions.subscribers() === 1 ? true : undefined,
      )
      simulator.finishTask(taskId)
      const awaited = await answer
      expect(awaited.statusCode).toBe(200)
      await eventually(async () => (announced.includes(awaited.body.id) ? true : undefined))

      expect(announced).not.toContain(plain.body.id)
    } finally {
      await listener.end()
    }
  })

  it('when the caption is not final within N seconds, then the answer is the usual 202 after about N seconds, with the caption as it stands', async () => {
    const reply = await postOverHttp(waitingReplica, { imageUrl: uniqueImageUrl() }, { prefer: 'wait=2' })

    expect(reply.statusCode).toBe(202)
    expect(reply.headers['preference-applied']).toBe('wait=2')
    expect(reply.body.status).toBe('processing')
    expect(reply.elapsedMs).toBeGreaterThanOrEqual(1_900)
    expect(reply.elapsedMs).toBeLessThan(5_000)
  })

  it('when the caption fails within the wait, then the answer is 200 with the failed caption', async () => {
    const imageUrl = uniqueImageUrl()
    const answer = postOverHttp(waitingReplica, { imageUrl }, { prefer: 'wait=20' })
    simulator.finishTask(await taskIdOf(waitingReplica, imageUrl), 'failed')
    const reply = await answer
    expect(reply.statusCode).toBe(200)
    expect(reply.body.status).toBe('failed')
  })

  it('when a replay of an Idempotency-Key comes with Prefer: wait, then it waits on the same caption and answers 200 replayed', async () => {
    const imageUrl = uniqueImageUrl()
    const key = randomUUID()
    const first = await postOverHttp(waitingReplica, { imageUrl }, { 'idempotency-key': key })
    expect(first.statusCode).toBe(202)

    const replay = postOverHttp(waitingReplica, { imageUrl }, { 'idempotency-key': key, prefer: 'wait=20' })
    await sleep(300)
    simulator.finishTask(await taskIdOf(waitingReplica, imageUrl))
    const reply = await replay

    expect(reply.statusCode).toBe(200)
    expect(reply.headers['idempotent-replayed']).toBe('true')
    expect(reply.headers['preference-applied']).toBe('wait=20')
    expect(reply.body).toMatchObject({ id: first.body.id, status: 'completed' })
    expect(await waitingReplica.db.caption.count({ where: { imageUrl } })).toBe(1)
  })

  it('when the listening connection is cut while a request waits, then it listens again and the wait still ends with the caption', async () => {
    const imageUrl = uniqueImageUrl()
    const answer = postOverHttp(waitingReplica, { imageUrl }, { prefer: 'wait=20' })
    const taskId = await taskIdOf(waitingReplica, imageUrl)
    // Both replicas' listening connections (one each) are cut.
    const cut = await waitingReplica.db.$queryRaw<{ pid: number }[]>`
      SELECT pg_terminate_backend(pid) AS pid FROM pg_stat_activity
      WHERE application_name = ${NOTICES_APPLICATION_NAME} AND datname = current_database()`
    expect(cut.length).toBeGreaterThanOrEqual(1)
    simulator.finishTask(taskId)
    const reply = await answer
    expect(reply.statusCode).toBe(200)
    expect(reply.body.status).toBe('completed')
    const listening = await eventually(async () => {
      const rows = await waitingReplica.db.$queryRaw<{ n: bigint }[]>`
        SELECT count(*) AS n FROM pg_stat_activity
        WHERE application_name = ${NOTICES_APPLICATION_NAME} AND datname = current_database()`
      return Number(rows[0]?.n) >= 1 ? true : undefined
    })
    expect(listening).toBe(true)
  })
})

describe('POST /captions with Prefer: wait, one replica', () => {
  let service: TestService

  beforeAll(async () => {
    service = await startTestService({ faults: { neverFinishRate: 1 } })
  })
  afterAll(async () => {
    await service?.simulator.close()
    await service?.close()
  })

  it('when the caller hangs up while waiting, then the wait ends, the caption carries on, and nothing is logged as an error', async () => {
    const imageUrl = uniqueImageUrl()
    const hangUp = new AbortController()
    const answer = postOverHttp(service, { imageUrl }, { prefer: 'wait=30' }, hangUp.signal)
    const taskId = await taskIdOf(service, imageUrl)
    await eventually(async () => (service.deps.finishedCaptions.subscribers() === 1 ? true : undefined))
    hangUp.abort()
    await expect(answer).rejects.toThrow()

    await eventually(async () => (service.deps.finishedCaptions.subscribers() === 0 ? true : undefined))
    service.simulator.finishTask(taskId)
    const row = await eventually(async () => {
      const caption = await service.db.caption.findFirst({ where: { imageUrl } })
      return caption?.status === 'completed' ? caption : undefined
    })
    expect(row.caption).toEqual(expect.any(String))
    expect(service.logs.filter((line) => Number(line.level) >= 50)).toEqual([])
    expect(service.logs.some((line) => String(line.msg).startsWith('the caller hung up while waiting'))).toBe(
      true,
    )
  })

  it('when more requests wait than the pool has connections, then they hold none: a read still answers at once', async () => {
    const waiting = Array.from({ length: 12 }, () =>
      postOverHttp(service, { imageUrl: uniqueImageUrl() }, { prefer: 'wait=10' }),
    )
    await eventually(async () => (service.deps.finishedCaptions.subscribers() === 12 ? true : undefined))
    const started = Date.now()
    const read = await service.app.inject({ method: 'GET', url: '/captions?limit=1' })
    expect(read.statusCode).toBe(200)
    expect(Date.now() - started).toBeLessThan(3_000)
    // Sending the twelve tasks takes connections for a moment after the waits begin; once that settles,
    // every connection is idle and nothing queues for one while all twelve still wait.
    const pool = service.deps.sql
    await eventually(async () =>
      pool.waitingCount === 0 && pool.idleCount === pool.totalCount ? true : undefined,
    )
    expect(service.deps.finishedCaptions.subscribers()).toBe(12)
    for (const reply of await Promise.all(waiting)) expect(reply.statusCode).toBe(202)
  })

  it('when Prefer asks for wait=0, a wait that is not a number, or another preference, then it is ignored: a plain 202 at once', async () => {
    for (const prefer of ['wait=0', 'wait=abc', 'wait=-5', 'wait=1.5', 'respond-async', 'wait=abc, wait=5']) {
      const reply = await postOverHttp(service, { imageUrl: uniqueImageUrl() }, { prefer })
      expect(reply.statusCode, prefer).toBe(202)
      expect(reply.headers['preference-applied'], prefer).toBeUndefined()
      expect(reply.elapsedMs, prefer).toBeLessThan(3_000)
    }
  })

  it('when the wait asked for is longer than 60 seconds, then it is held to 60', async () => {
    const imageUrl = uniqueImageUrl()
    const answer = postOverHttp(service, { imageUrl }, { prefer: 'respond-async, WAIT=600' })
    service.simulator.finishTask(await taskIdOf(service, imageUrl))
    const reply = await answer
    expect(reply.statusCode).toBe(200)
    expect(reply.headers['preference-applied']).toBe('wait=60')
  })

  it('when the caption is final as it is created (its text reused), then the answer is 200 at once', async () => {
    const imageUrl = uniqueImageUrl()
    const first = postOverHttp(service, { imageUrl }, { prefer: 'wait' })
    service.simulator.finishTask(await taskIdOf(service, imageUrl))
    const original = await first
    expect(original.headers['preference-applied']).toBe('wait=60')
    expect(original.body.status).toBe('completed')

    const reply = await postOverHttp(service, { imageUrl, reuse: true }, { prefer: 'wait=30' })
    expect(reply.statusCode).toBe(200)
    expect(reply.body).toMatchObject({ status: 'completed', reusedFrom: original.body.id })
    expect(reply.elapsedMs).toBeLessThan(3_000)
  })

  it('when the wait is longer than the idle timeout of a connection (30 s), then the connection is kept open for the answer', {
    timeout: 45_000,
  }, async () => {
    const reply = await postOverHttp(service, { imageUrl: uniqueImageUrl() }, { prefer: 'wait=31' })
    expect(reply.statusCode).toBe(202)
    expect(reply.elapsedMs).toBeGreaterThanOrEqual(30_900)
  })
})

describe('POST /captions with Prefer: wait while the replica stops or sheds load', () => {
  it('when the replica closes while a request waits, then the request is answered 202 at once', async () => {
    const service = await startTestService({ faults: { neverFinishRate: 1 } })
    try {
      const answer = postOverHttp(service, { imageUrl: uniqueImageUrl() }, { prefer: 'wait=30' })
      await eventually(async () => (service.deps.finishedCaptions.subscribers() === 1 ? true : undefined))
      const closing = Date.now()
      await service.app.close()
      const reply = await answer
      expect(reply.statusCode).toBe(202)
      expect(reply.headers.connection).toBe('close')
      expect(Date.now() - closing).toBeLessThan(5_000)
    } finally {
      await service.simulator.close()
      await service.close()
    }
  })

  it('when the replica is overloaded, then a request with Prefer: wait is shed with 503 like any other, writing nothing', async () => {
    const service = await startTestService({ env: { OVERLOAD_HEAP_USED_MB: '16' } })
    try {
      // under-pressure samples about once a second: shedding starts with the first sample.
      await eventually(async () => {
        const ready = await service.app.inject({ method: 'GET', url: '/readyz' })
        return ready.statusCode === 503 ? true : undefined
      })
      const imageUrl = uniqueImageUrl()
      const reply = await service.app.inject({
        method: 'POST',
        url: '/captions',
        headers: { prefer: 'wait=30' },
        payload: { imageUrl },
      })
      expectErrorReply(reply, 503, 'overloaded')
      expect(await service.db.caption.count({ where: { imageUrl } })).toBe(0)
      expect(service.deps.finishedCaptions.subscribers()).toBe(0)
    } finally {
      await service.simulator.close()
      await service.close()
    }
  })
})

import { randomUUID } from 'node:crypto'
import { request } from 'undici'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import type { GoapiSimulator } from '../../src/goapi-simulator/simulator.js'
import { expectErrorReply } from '../helpers/http.js'
import {
  eventually,
  manualClock,
  startSharedSimulator,
  startTestService,
  type TestService,
} from '../helpers/service.js'

const DAY_MS = 24 * 60 * 60 * 1000

interface CaptionBody {
  id: string
  imageUrl: string
  status: string
}

function uniqueImageUrl(): string {
  return `https://images.example.com/idempotency/${randomUUID()}.png`
}

/** GoAPI tasks created for one caption: each carries the caption's own webhook secret. */
function tasksFor(simulator: GoapiSimulator, captionId: string) {
  return [...simulator.tasks.values()].filter((record) =>
    record.task.config.webhook_config.secret.startsWith(`${captionId}.`),
  )
}

/** POST /captions on one replica under an Idempotency-Key. */
function postWithKey(replica: TestService, key: string, body: Record<string, unknown>) {
  return replica.app.inject({
    method: 'POST',
    url: '/captions',
    headers: { 'idempotency-key': key },
    payload: body,
  })
}

describe('POST /captions with an Idempotency-Key', () => {
  let service: TestService
  const clock = manualClock()

  beforeAll(async () => {
    service = await startTestService({ clock })
  })
  afterAll(async () => {
    // The simulator first: no webhook is then in flight on a connection that would hold the app's close.
    await service?.simulator.close()
    await service?.close()
  })

  function post(payload: unknown, key?: string) {
    return service.app.inject({
      method: 'POST',
      url: '/captions',
      headers: key === undefined ? {} : { 'idempotency-key': key },
      payload: payload as Record<string, unknown>,
    })
  }

  async function counts() {
    return {
      captions: await service.db.caption.count(),
      keys: await service.db.idempotencyKey.count(),
      tasks: service.simulator.tasks.size,
      creates: service.simulator.counters.createRequests,
    }
  }

  it('when the same key comes with the same body twice, then both answers are 202 with the same caption and one GoAPI task', async () => {
    const key = randomUUID()
    const body = { imageUrl: uniqueImageUrl(), metadata: { orderId: 7 } }

    const first = await post(body, key)
    expect(first.statusCode).toBe(202)
    expect(first.headers['idempotent-replayed']).toBeUndefined()
    const caption = first.json() as CaptionBody

    const second = await post(body, key)
    expect(second.statusCode).toBe(202)
    expect(second.headers['idempotent-replayed']).toBe('true')
    expect(second.headers.location).toBe(`/captions/${caption.id}`)
    expect(second.json()).toEqual(first.json())
    expect(second.body).toBe(first.body)

    expect(tasksFor(service.simulator, caption.id)).toHaveLength(1)
    expect(await service.db.caption.count({ where: { imageUrl: body.imageUrl } })).toBe(1)
  })

  it('when the same body comes with its keys in another order or its defaults spelled out, then it counts as the same request', async () => {
    const key = randomUUID()
    const imageUrl = uniqueImageUrl()
    const first = await post({ imageUrl, metadata: { a: 1, b: { c: 2, d: 3 } } }, key)
    expect(first.statusCode).toBe(202)
    const caption = first.json() as CaptionBody

    const reordered = await post({ metadata: { b: { d: 3, c: 2 }, a: 1 }, imageUrl }, key)
    expect(reordered.statusCode).toBe(202)
    expect(reordered.headers['idempotent-replayed']).toBe('true')
    expect(reordered.json()).toEqual(first.json())

    const spelledOut = await post(
      { captionLength: 'any', imageUrl, promptStyle: 'Descriptive', metadata: { a: 1, b: { c: 2, d: 3 } } },
      key,
    )
    expect(spelledOut.statusCode).toBe(202)
    expect(spelledOut.headers['idempotent-replayed']).toBe('true')
    expect(spelledOut.json()).toEqual(first.json())

    expect(tasksFor(service.simulator, caption.id)).toHaveLength(1)
    expect(await service.db.caption.count({ where: { imageUrl } })).toBe(1)
  })

  it('when the same key comes with the same imageUrl spelled another way, then it counts as the same request', async () => {
    const key = randomUUID()
    const path = `idempotency/${randomUUID()}/ä b.png`
    const first = await post({ imageUrl: `https://images.example.com/${path}` }, key)
    expect(first.statusCode).toBe(202)
    const caption = first.json() as CaptionBody

    for (const imageUrl of [
      `https://images.example.com/${encodeURI(path)}`,
      `HTTPS://IMAGES.example.com:443/${path}`,
    ]) {
      const again = await post({ imageUrl }, key)
      expect(again.statusCode).toBe(202)
      expect(again.headers['idempotent-replayed']).toBe('true')
      expect((again.json() as CaptionBody).id).toBe(caption.id)
    }
    expect(tasksFor(service.simulator, caption.id)).toHaveLength(1)
  })

  it('when the same key comes with a different body, then 422 idempotency_key_reused and nothing new is written', async () => {
    const key = randomUUID()
    const first = await post({ imageUrl: uniqueImageUrl() }, key)
    expect(first.statusCode).toBe(202)
    const storedKey = await service.db.idempotencyKey.findUniqueOrThrow({
      where: { caller_key: { caller: '', key } },
    })
    const before = await counts()

    const otherImage = uniqueImageUrl()
    expectErrorReply(await post({ imageUrl: otherImage }, key), 422, 'idempotency_key_reused')
    // A default spelled out differently is a different request too.
    expectErrorReply(
      await post({ imageUrl: (first.json() as CaptionBody).imageUrl, promptStyle: 'Straightforward' }, key),
      422,
      'idempotency_key_reused',
    )

    expect(await counts()).toEqual(before)
    expect(await service.db.caption.count({ where: { imageUrl: otherImage } })).toBe(0)
    expect(
      await service.db.idempotencyKey.findUniqueOrThrow({ where: { caller_key: { caller: '', key } } }),
    ).toEqual(storedKey)
  })

  it('when the key is 256 characters long, then 400 invalid_idempotency_key and nothing is written', async () => {
    const before = await counts()
    const imageUrl = uniqueImageUrl()
    const reply = await post({ imageUrl }, 'k'.repeat(256))
    const body = expectErrorReply(reply, 400, 'invalid_idempotency_key')
    expect(body.message).toContain('Idempotency-Key')
    expect(await counts()).toEqual(before)
    expect(await service.db.caption.count({ where: { imageUrl } })).toBe(0)
  })

  it('when the key is 255 characters long, then it is accepted', async () => {
    const key = `${randomUUID()}${'k'.repeat(255 - 36)}`
    expect(key).toHaveLength(255)
    const body = { imageUrl: uniqueImageUrl() }
    const first = await post(body, key)
    expect(first.statusCode).toBe(202)
    const second = await post(body, key)
    expect(second.statusCode).toBe(202)
    expect(second.headers['idempotent-replayed']).toBe('true')
    expect((second.json() as CaptionBody).id).toBe((first.json() as CaptionBody).id)
  })

  it('when the key is empty, then 400 invalid_idempotency_key and nothing is written', async () => {
    const before = await counts()
    const imageUrl = uniqueImageUrl()
    // Over a real socket, so the empty header travels exactly as a caller would send it.
    const response = await fetch(`${service.baseUrl}/captions`, {
      method: 'POST',
      headers: { 'content-type': 'application/json', 'idempotency-key': '' },
      body: JSON.stringify({ imageUrl }),
    })
    const json = await response.json()
    expectErrorReply(
      { statusCode: response.status, headers: Object.fromEntries(response.headers), json: () => json },
      400,
      'invalid_idempotency_key',
    )
    expect(await counts()).toEqual(before)
    expect(await service.db.caption.count({ where: { imageUrl } })).toBe(0)
  })

  it('when the header comes twice, then 400 invalid_idempotency_key asks for it once and nothing is written', async () => {
    const before = await counts()
    const imageUrl = uniqueImageUrl()
    const reply = await service.app.inject({
      method: 'POST',
      url: '/captions',
      headers: { 'idempotency-key': ['a1', 'a2'] },
      payload: { imageUrl },
    })
    const body = expectErrorReply(reply, 400, 'invalid_idempotency_key')
    expect(body.message).toBe('Idempotency-Key: send the header once')
    expect(await counts()).toEqual(before)
    expect(await service.db.caption.count({ where: { imageUrl } })).toBe(0)
  })

  it('when the header comes twice over a real socket, even with one value, then 400 invalid_idempotency_key', async () => {
    const before = await counts()
    const imageUrl = uniqueImageUrl()
    // Node joins repeated headers it does not know into one value: "a1, a1" must not pass as a key.
    const response = await request(`${service.baseUrl}/captions`, {
      method: 'POST',
      headers: ['content-type', 'application/json', 'idempotency-key', 'a1', 'Idempotency-Key', 'a1'],
      body: JSON.stringify({ imageUrl }),
    })
    const json = await response.body.json()
    const body = expectErrorReply(
      { statusCode: response.statusCode, headers: response.headers, json: () => json },
      400,
      'invalid_idempotency_key',
    )
    expect(body.message).toBe('Idempotency-Key: send the header once')
    expect(await counts()).toEqual(before)
  })

  it('when 24 hours have passed, then the key is forgotten and the same key makes a new caption', async () => {
    const key = randomUUID()
    const body = { imageUrl: uniqueImageUrl() }
    const first = await post(body, key)
    expect(first.statusCode).toBe(202)
    const firstId = (first.json() as CaptionBody).id

    clock.advance(DAY_MS - 1_000)
    const stillKnown = await post(body, key)
    expect(stillKnown.statusCode).toBe(202)
    expect(stillKnown.headers['idempotent-replayed']).toBe('true')
    expect((stillKnown.json() as CaptionBody).id).toBe(firstId)

    clock.advance(2_000) // 24 h + 1 s after the first request
    const after = await post(body, key)
    expect(after.statusCode).toBe(202)
    expect(after.headers['idempotent-replayed']).toBeUndefined()
    const secondId = (after.json() as CaptionBody).id
    expect(secondId).not.toBe(firstId)

    expect(await service.db.caption.count({ where: { imageUrl: body.imageUrl } })).toBe(2)
    expect(tasksFor(service.simulator, firstId)).toHaveLength(1)
    expect(tasksFor(service.simulator, secondId)).toHaveLength(1)
    // The key now stands for the new caption.
    const again = await post(body, key)
    expect(again.headers['idempotent-replayed']).toBe('true')
    expect((again.json() as CaptionBody).id).toBe(secondId)
  })

  it('when two identical posts come without a key, then two captions are made', async () => {
    const body = { imageUrl: uniqueImageUrl() }
    const first = await post(body)
    const second = await post(body)
    expect(first.statusCode).toBe(202)
    expect(second.statusCode).toBe(202)
    expect(first.headers['idempotent-replayed']).toBeUndefined()
    expect(second.headers['idempotent-replayed']).toBeUndefined()
    const firstId = (first.json() as CaptionBody).id
    const secondId = (second.json() as CaptionBody).id
    expect(secondId).not.toBe(firstId)
    expect(await service.db.caption.count({ where: { imageUrl: body.imageUrl } })).toBe(2)
    expect(tasksFor(service.simulator, firstId)).toHaveLength(1)
    expect(tasksFor(service.simulator, secondId)).toHaveLength(1)
  })
})

describe('one Idempotency-Key raced on two replicas sharing a database', () => {
  let simulator: GoapiSimulator
  let replicaA: TestService
  let replicaB: TestService

  beforeAll(async () => {
    // A slow create keeps the first request unanswered while the second one arrives.
    simulator = await startSharedSimulator({ createLatencyMs: 300 })
    replicaA = await startTestService({ simulator, workerId: 'replica-a' })
    replicaB = await startTestService({ simulator, workerId: 'replica-b', databaseUrl: replicaA.databaseUrl })
  })
  afterAll(async () => {
    await simulator?.close()
    await replicaB?.close()
    await replicaA?.close()
  })

  it('when two requests with one key arrive at the same moment, then one caption and one GoAPI task exist and each answer is 202 or 409', async () => {
    const key = randomUUID()
    const body = { imageUrl: uniqueImageUrl() }
    const send = (replica: TestService) => postWithKey(replica, key, body)

    const replies = await Promise.all([send(replicaA), send(replicaB)])

    const rows = await replicaA.db.caption.findMany({ where: { imageUrl: body.imageUrl } })
    expect(rows).toHaveLength(1)
    const captionId = rows[0]?.id as string
    expect(tasksFor(simulator, captionId)).toHaveLength(1)

    const accepted = replies.filter((reply) => reply.statusCode === 202)
    expect(accepted.length).toBeGreaterThanOrEqual(1)
    for (const reply of replies) {
      if (reply.statusCode === 202) expect((reply.json() as CaptionBody).id).toBe(captionId)
      else expectErrorReply(reply, 409, 'idempotency_key_in_progress')
    }

    // Once the first has answered, a retry on either replica replays that answer.
    for (const replica of [replicaA, replicaB]) {
      const retry = await send(replica)
      expect(retry.statusCode).toBe(202)
      expect(retry.headers['idempotent-replayed']).toBe('true')
      expect((retry.json() as CaptionBody).id).toBe(captionId)
    }
    expect(await replicaB.db.caption.count({ where: { imageUrl: body.imageUrl } })).toBe(1)
    expect(tasksFor(simulator, captionId)).toHaveLength(1)
  })

  it('when a key is still being processed, then 409 idempotency_key_in_progress with Retry-After: 1', async () => {
    const key = randomUUID()
    const body = { imageUrl: uniqueImageUrl() }
    const send = (replica: TestService) => postWithKey(replica, key, body)

    // The key is recorded before GoAPI is asked, and GoAPI takes 1.5 s to answer: long enough that the
    // second request comes while the first waits even when a loaded machine stalls for a moment (300 ms
    // was not), short of the client's 2 s header timeout.
    simulator.faults.createLatencyMs = 1_500
    try {
      const first = send(replicaA)
      await eventually(async () =>
        (await replicaA.db.idempotencyKey.count({ where: { key } })) === 1 ? true : undefined,
      )
      const second = await send(replicaB)
      expectErrorReply(second, 409, 'idempotency_key_in_progress')
      expect(second.headers['retry-after']).toBe('1')
      expect((await first).statusCode).toBe(202)
    } finally {
      simulator.faults.createLatencyMs = 300
    }
  })
})

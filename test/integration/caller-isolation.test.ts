import { randomUUID } from 'node:crypto'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import {
  authEnv,
  type CallerName,
  type CaptionReply,
  getAs,
  postAs,
  uniqueImageUrl,
} from '../helpers/callers.js'
import { goapiDelivery } from '../helpers/deliveries.js'
import { expectErrorReply } from '../helpers/http.js'
import { startTestService, type TestService } from '../helpers/service.js'
import { tasksFor } from '../helpers/simulator.js'

interface Page {
  items: CaptionReply[]
  nextCursor: string | null
}

describe('captions belong to the caller that created them', () => {
  let service: TestService
  const own: Record<'alice' | 'bob', CaptionReply[]> = { alice: [], bob: [] }

  async function create(caller: CallerName): Promise<CaptionReply> {
    const reply = await postAs(service, caller, { imageUrl: uniqueImageUrl(`isolation-${caller}`) })
    expect(reply.statusCode).toBe(202)
    return reply.json() as CaptionReply
  }

  async function complete(caption: CaptionReply) {
    const delivery = goapiDelivery({ captionId: caption.id, taskId: caption.goapiTaskId as string })
    expect((await service.app.inject(delivery)).json()).toMatchObject({ outcome: 'applied' })
  }

  async function list(caller: CallerName, query: string): Promise<Page> {
    const reply = await getAs(service, caller, `/captions?${query}`)
    expect(reply.statusCode).toBe(200)
    return reply.json() as Page
  }

  /** Every id `caller` sees, page by page from `cursor`. */
  async function walk(caller: CallerName, query: string, cursor: string | null = null): Promise<string[]> {
    const ids: string[] = []
    for (let pages = 0; pages < 50; pages++) {
      const page = await list(caller, cursor === null ? query : `${query}&cursor=${cursor}`)
      ids.push(...page.items.map((item) => item.id))
      cursor = page.nextCursor
      if (cursor === null) return ids
    }
    throw new Error('the walk does not end')
  }

  const idsOf = (captions: CaptionReply[]) => captions.map((caption) => caption.id).sort()

  beforeAll(async () => {
    // GoAPI's webhooks are dropped: which captions complete is chosen here, by hand.
    service = await startTestService({ env: authEnv(['alice', 'bob']), faults: { dropWebhookRate: 1 } })
    // Interleaved, so each caller's captions sit between the other's in creation order.
    for (let index = 0; index < 4; index++) {
      own.alice.push(await create('alice'))
      if (index < 3) own.bob.push(await create('bob'))
    }
    await complete(own.alice[0] as CaptionReply)
    await complete(own.alice[2] as CaptionReply)
    await complete(own.bob[1] as CaptionReply)
  })
  afterAll(async () => {
    await service?.close()
  })

  it("when bob asks for alice's caption, then 404 exactly as for an id that does not exist", async () => {
    const alices = own.alice[0] as CaptionReply
    expect((await getAs(service, 'alice', `/captions/${alices.id}`)).statusCode).toBe(200)

    const foreign = await getAs(service, 'bob', `/captions/${alices.id}`)
    const foreignBody = expectErrorReply(foreign, 404, 'not_found')
    const randomId = randomUUID()
    const missing = await getAs(service, 'bob', `/captions/${randomId}`)
    const missingBody = expectErrorReply(missing, 404, 'not_found')

    // The only difference is the id the message repeats.
    expect({ ...foreignBody, message: foreignBody.message.replace(alices.id, '<id>') }).toEqual({
      ...missingBody,
      message: missingBody.message.replace(randomId, '<id>'),
    })
    expect(foreign.headers['content-type']).toBe(missing.headers['content-type'])
    expect(foreign.body).not.toContain(alices.imageUrl)
  })

  it("when alice asks for bob's caption, then 404 too", async () => {
    const bobs = own.bob[0] as CaptionReply
    expectErrorReply(await getAs(service, 'alice', `/captions/${bobs.id}`), 404, 'not_found')
    expect((await getAs(service, 'bob', `/captions/${bobs.id}`)).statusCode).toBe(200)
  })

  it.each([['alice' as const], ['bob' as const]])(
    'when %s lists captions, then it sees exactly its own',
    async (caller) => {
      expect((await walk(caller, 'limit=100')).sort()).toEqual(idsOf(own[caller]))
    },
  )

  it.each([
    ['alice' as const, 'completed', [0, 2]],
    ['alice' as const, 'pending', [1, 3]],
    ['bob' as const, 'completed', [1]],
    ['bob' as const, 'pending', [0, 2]],
  ])(
    'when %s lists with status=%s, then only its own captions in that status come',
    async (caller, status, at) => {
      const expected = at.map((index) => (own[caller][index] as CaptionReply).id).sort()
      const page = await list(caller, `status=${status}&limit=100`)
      expect(page.items.map((item) => item.id).sort()).toEqual(expected)
      expect(page.items.every((item) => item.status === status)).toBe(true)
    },
  )

  it.each([['alice' as const], ['bob' as const]])(
    'when %s walks its list one caption a page, then every page holds only its own captions and none is missed',
    async (caller) => {
      const ids = await walk(caller, 'limit=1')
      expect(ids).toHaveLength(own[caller].length)
      expect([...ids].sort()).toEqual(idsOf(own[caller]))
    },
  )

  it('when alice walks her pending captions one a page, then only hers come', async () => {
    const ids = await walk('alice', 'status=pending&limit=1')
    expect(ids.sort()).toEqual([(own.alice[1] as CaptionReply).id, (own.alice[3] as CaptionReply).id].sort())
  })

  it('when bob pages on with a cursor alice was given, then he still sees only his own captions', async () => {
    const first = await list('alice', 'limit=1')
    expect(first.nextCursor).not.toBeNull()
    const ids = await walk('bob', 'limit=1', first.nextCursor)
    // The cursor is only a position: bob gets his captions older than it, never alice's.
    expect(ids.length).toBeGreaterThan(0)
    const bobs = idsOf(own.bob)
    expect(ids.filter((id) => !bobs.includes(id))).toEqual([])
  })

  describe('Idempotency-Key', () => {
    it('when alice and bob send the same key and body, then each gets a caption of its own, each replayed only to its caller', async () => {
      const key = randomUUID()
      const body = { imageUrl: uniqueImageUrl('isolation-idempotency') }

      const fromAlice = await postAs(service, 'alice', body, { 'idempotency-key': key })
      const fromBob = await postAs(service, 'bob', body, { 'idempotency-key': key })
      expect(fromAlice.statusCode).toBe(202)
      expect(fromBob.statusCode).toBe(202)
      expect(fromAlice.headers['idempotent-replayed']).toBeUndefined()
      expect(fromBob.headers['idempotent-replayed']).toBeUndefined()
      const aliceCaption = fromAlice.json() as CaptionReply
      const bobCaption = fromBob.json() as CaptionReply
      expect(aliceCaption.id).not.toBe(bobCaption.id)
      expect(await service.db.caption.count({ where: { imageUrl: body.imageUrl } })).toBe(2)
      expect(tasksFor(service.simulator, aliceCaption.id)).toHaveLength(1)
      expect(tasksFor(service.simulator, bobCaption.id)).toHaveLength(1)

      const aliceAgain = await postAs(service, 'alice', body, { 'idempotency-key': key })
      expect(aliceAgain.statusCode).toBe(202)
      expect(aliceAgain.headers['idempotent-replayed']).toBe('true')
      expect(aliceAgain.json()).toEqual(aliceCaption)

      const bobAgain = await postAs(service, 'bob', body, { 'idempotency-key': key })
      expect(bobAgain.statusCode).toBe(202)
      expect(bobAgain.headers['idempotent-replayed']).toBe('true')
      expect(bobAgain.json()).toEqual(bobCaption)

      expect(await service.db.caption.count({ where: { imageUrl: body.imageUrl } })).toBe(2)
      expect(tasksFor(service.simulator, aliceCaption.id)).toHaveLength(1)
      expect(tasksFor(service.simulator, bobCaption.id)).toHaveLength(1)
      expect(
        (await service.db.caption.findMany({ where: { imageUrl: body.imageUrl } }))
          .map((row) => row.caller)
          .sort(),
      ).toEqual(['alice', 'bob'])
    })

    it("when bob reuses alice's key with another body, then he gets a new caption, not 422", async () => {
      const key = randomUUID()
      const first = await postAs(
        service,
        'alice',
        { imageUrl: uniqueImageUrl('isolation-key') },
        {
          'idempotency-key': key,
        },
      )
      expect(first.statusCode).toBe(202)
      const other = await postAs(
        service,
        'bob',
        { imageUrl: uniqueImageUrl('isolation-key') },
        {
          'idempotency-key': key,
        },
      )
      expect(other.statusCode).toBe(202)
      expect(other.headers['idempotent-replayed']).toBeUndefined()
      expect((other.json() as CaptionReply).id).not.toBe((first.json() as CaptionReply).id)
      // Alice's key still holds her body: a different one from her is refused.
      expectErrorReply(
        await postAs(
          service,
          'alice',
          { imageUrl: uniqueImageUrl('isolation-key') },
          { 'idempotency-key': key },
        ),
        422,
        'idempotency_key_reused',
      )
    })
  })
})

describe('with AUTH_DISABLED=true', () => {
  let service: TestService
  beforeAll(async () => {
    service = await startTestService({ faults: { dropWebhookRate: 1 } })
  })
  afterAll(async () => {
    await service?.close()
  })

  it('when the anonymous caller creates captions, then it reads and lists every one of them', async () => {
    const created: CaptionReply[] = []
    for (let index = 0; index < 3; index++) {
      const reply = await postAs(service, undefined)
      expect(reply.statusCode).toBe(202)
      created.push(reply.json() as CaptionReply)
    }
    for (const caption of created) {
      const read = await getAs(service, undefined, `/captions/${caption.id}`)
      expect(read.statusCode).toBe(200)
      expect(read.json()).toMatchObject({ id: caption.id })
    }
    const listed = await getAs(service, undefined, '/captions?limit=100')
    expect(listed.statusCode).toBe(200)
    expect((listed.json() as Page).items.map((item) => item.id).sort()).toEqual(
      created.map((caption) => caption.id).sort(),
    )
  })
})

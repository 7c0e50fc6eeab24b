import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import type { Clock } from '../../src/lib/clock.js'
import { authEnv, bearer, postAs } from '../helpers/callers.js'
import { goapiDelivery } from '../helpers/deliveries.js'
import { startTestService, type TestService } from '../helpers/service.js'

interface ListedCaption {
  id: string
  status: string
  imageUrl: string
  createdAt: string
}

interface Page {
  items: ListedCaption[]
  nextCursor: string | null
}

/** A clock the test moves by hand, so creation times (and ties between them) are chosen, not raced. */
function settableClock(start: string): Clock & { set(iso: string): void } {
  let current = new Date(start)
  return {
    now: () => new Date(current),
    set(iso) {
      current = new Date(iso)
    },
  }
}

async function listPage(service: TestService, query: string): Promise<Page> {
  const reply = await service.app.inject({ method: 'GET', url: `/captions?${query}` })
  expect(reply.statusCode).toBe(200)
  return reply.json() as Page
}

/** Follows nextCursor from the first page to the last; returns every page. */
async function walk(service: TestService, query: string, from: string | null = null): Promise<Page[]> {
  const pages: Page[] = []
  let cursor = from
  do {
    const page = await listPage(service, cursor === null ? query : `${query}&cursor=${cursor}`)
    pages.push(page)
    cursor = page.nextCursor
    if (pages.length > 50) throw new Error('the walk does not end')
  } while (cursor !== null)
  return pages
}

async function postCaption(service: TestService, imageUrl: string) {
  const reply = await service.app.inject({ method: 'POST', url: '/captions', payload: { imageUrl } })
  expect(reply.statusCode).toBe(202)
  return reply.json() as { id: string; goapiTaskId: string | null; status: string }
}

describe('GET /captions', () => {
  let service: TestService
  const clock = settableClock('2025-06-01T12:00:00.000Z')
  // Three creation times are shared by several captions, so the order falls back on the id.
  const createdAt = [
    '2025-06-01T12:00:00.000Z',
    '2025-06-01T12:00:01.000Z',
    '2025-06-01T12:00:01.000Z',
    '2025-06-01T12:00:01.000Z',
    '2025-06-01T12:00:02.500Z',
    '2025-06-01T12:00:03.000Z',
    '2025-06-01T12:00:03.000Z',
  ]
  const created: { id: string; status: string; createdAt: string }[] = []

  beforeAll(async () => {
    // Only the deliveries this test sends reach the service, so every caption's status is chosen here.
    service = await startTestService({ clock, faults: { dropWebhookRate: 1 } })
    for (const [index, at] of createdAt.entries()) {
      clock.set(at)
      if (index === 5) {
        // GoAPI turns this one away for now (429): it stays queued.
        Object.assign(service.simulator.faults, { createFailureRate: 1, createFailureStatus: 429 })
      }
      const caption = await postCaption(service, `https://images.example.com/list/${index}.png`)
      Object.assign(service.simulator.faults, { createFailureRate: 0 })
      created.push({ id: caption.id, status: caption.status, createdAt: at })
    }
    clock.set('2025-06-01T12:10:00.000Z')
    const deliver = async (index: number, status: string, extra: { errorMessage?: string } = {}) => {
      const caption = created[index] as (typeof created)[number]
      const row = await service.db.caption.findUniqueOrThrow({ where: { id: caption.id } })
      const reply = await service.app.inject(
        goapiDelivery({ captionId: caption.id, taskId: row.goapiTaskId as string, status, ...extra }),
      )
      expect(reply.statusCode).toBe(200)
      caption.status = status
    }
    await deliver(1, 'completed')
    await deliver(2, 'failed', { errorMessage: 'the image could not be fetched' })
    await deliver(3, 'processing')
    await deliver(6, 'completed')
  })
  afterAll(async () => {
    await service.close()
  })

  /** Newest first, ties broken by id, highest first: the order the API promises to keep stable. */
  function expectedOrder(status?: string): string[] {
    return created
      .filter((caption) => status === undefined || caption.status === status)
      .sort((a, b) =>
        a.createdAt === b.createdAt ? (a.id < b.id ? 1 : -1) : a.createdAt < b.createdAt ? 1 : -1,
      )
      .map((caption) => caption.id)
  }

  it('when the captions were set up, then they hold every status the filter is tested with', () => {
    expect(created.map((caption) => caption.status)).toEqual([
      'pending',
      'completed',
      'failed',
      'processing',
      'pending',
      'queued',
      'completed',
    ])
  })

  it('when all captions are listed, then they come newest first, ties ordered by id', async () => {
    const page = await listPage(service, 'limit=100')
    expect(page.items.map((item) => item.id)).toEqual(expectedOrder())
    expect(page.items.map((item) => item.createdAt)).toEqual(
      [...createdAt].sort((a, b) => (a < b ? 1 : -1)).map((at) => new Date(at).toISOString()),
    )
    expect(page.nextCursor).toBeNull()
  })

  it.each([1, 2, 3, 4, 6, 7, 8])(
    'when walked with limit %i, then every caption comes exactly once, in order, and the last cursor is null',
    async (limit) => {
      const pages = await walk(service, `limit=${limit}`)
      const ids = pages.flatMap((page) => page.items.map((item) => item.id))
      expect(ids).toEqual(expectedOrder())
      expect(new Set(ids).size).toBe(ids.length)
      expect(pages).toHaveLength(Math.ceil(created.length / limit))
      for (const page of pages.slice(0, -1)) {
        expect(page.items).toHaveLength(limit)
        expect(page.nextCursor).toEqual(expect.any(String))
      }
      expect(pages.at(-1)?.items.length).toBeGreaterThan(0)
      expect(pages.at(-1)?.nextCursor).toBeNull()
    },
  )

  it('when a caption is created in the middle of a walk, then the walk neither repeats nor skips', async () => {
    const first = await listPage(service, 'limit=3')
    clock.set('2025-06-01T12:20:00.000Z')
    const newcomer = await postCaption(service, 'https://images.example.com/list/newcomer.png')
    try {
      const rest = await walk(service, 'limit=3', first.nextCursor)
      const ids = [...first.items, ...rest.flatMap((page) => page.items)].map((item) => item.id)
      expect(ids).toEqual(expectedOrder())
      const fresh = await listPage(service, 'limit=1')
      expect(fresh.items[0]?.id).toBe(newcomer.id)
    } finally {
      await service.db.caption.delete({ where: { id: newcomer.id } })
    }
  })

  it.each(['queued', 'pending', 'processing', 'completed', 'failed'])(
    'when filtered by status %s, then only captions in that status come, newest first',
    async (status) => {
      const page = await listPage(service, `status=${status}&limit=100`)
      expect(page.items.length).toBeGreaterThan(0)
      expect(page.items.every((item) => item.status === status)).toBe(true)
      expect(page.items.map((item) => item.id)).toEqual(expectedOrder(status))
    },
  )

  it('when a status filter is walked one at a time, then its cursor keeps to that status', async () => {
    const pages = await walk(service, 'status=completed&limit=1')
    expect(pages.flatMap((page) => page.items.map((item) => item.id))).toEqual(expectedOrder('completed'))
    expect(pages).toHaveLength(2)
  })

  it('when listed, then each item is the full caption resource', async () => {
    const page = await listPage(service, 'status=failed')
    expect(page.items).toEqual([
      {
        id: created[2]?.id,
        status: 'failed',
        imageUrl: 'https://images.example.com/list/2.png',
        promptStyle: 'Descriptive',
        retries: 0,
        captionLength: 'any',
        caption: null,
        error: { code: 'goapi_task_failed', message: 'the image could not be fetched' },
        goapiTaskId: expect.any(String),
        metadata: {},
        callbackUrl: null,
        callback: { state: 'none', attempts: 0 },
        batchId: null,
        name: null,
        fileName: null,
        reusedFrom: null,
        // GoAPI made its task (the task then failed): paid.
        costUsd: 0.01,
        createdAt: '2025-06-01T12:00:01.000Z',
        updatedAt: '2025-06-01T12:10:00.000Z',
        completedAt: '2025-06-01T12:10:00.000Z',
      },
    ])
  })
})

describe('GET /captions without a limit', () => {
  let service: TestService
  const ids: string[] = []
  beforeAll(async () => {
    service = await startTestService({ faults: { dropWebhookRate: 1 } })
    for (let index = 0; index < 21; index += 1) {
      ids.push((await postCaption(service, `https://images.example.com/default-limit/${index}.png`)).id)
    }
  })
  afterAll(async () => {
    await service.close()
  })

  it('when no limit is given, then 20 captions come with a cursor to the 21st', async () => {
    const first = await listPage(service, '')
    expect(first.items).toHaveLength(20)
    expect(first.nextCursor).toEqual(expect.any(String))
    const second = await listPage(service, `cursor=${first.nextCursor}`)
    expect(second.items).toHaveLength(1)
    expect(second.nextCursor).toBeNull()
    expect(new Set([...first.items, ...second.items].map((item) => item.id))).toEqual(new Set(ids))
  })

  it('when limit is 100, then it is accepted as the largest page', async () => {
    const page = await listPage(service, 'limit=100')
    expect(page.items).toHaveLength(21)
    expect(page.nextCursor).toBeNull()
  })
})

describe('GET /captions filtered by batch and creation time', () => {
  let service: TestService
  const clock = settableClock('2025-07-01T09:00:00.000Z')
  const lone: { id: string; createdAt: string }[] = []
  let batchId = ''
  let batchItems: string[] = []
  let otherBatchId = ''

  const asAlice = (query: string) =>
    service.app.inject({ method: 'GET', url: `/captions?${query}`, headers: bearer('alice') })

  beforeAll(async () => {
    service = await startTestService({
      clock,
      faults: { dropWebhookRate: 1 },
      env: authEnv(['alice', 'bob']),
    })
    for (const [index, at] of ['2025-07-01T09:00:00.000Z', '2025-07-01T10:00:00.000Z'].entries()) {
      clock.set(at)
      const reply = await postAs(service, 'alice', {
        imageUrl: `https://images.example.com/find/lone-${index}.png`,
      })
      lone.push({ id: (reply.json() as { id: string }).id, createdAt: at })
    }
    clock.set('2025-07-01T11:00:00.000Z')
    const batch = await service.app.inject({
      method: 'POST',
      url: '/batches',
      headers: bearer('alice'),
      payload: {
        items: [0, 1, 2].map((index) => ({ imageUrl: `https://images.example.com/find/b-${index}.png` })),
      },
    })
    expect(batch.statusCode).toBe(202)
    batchId = (batch.json() as { id: string }).id
    const items = await service.app.inject({
      method: 'GET',
      url: `/batches/${batchId}/captions`,
      headers: bearer('alice'),
    })
    batchItems = (items.json() as Page).items.map((item) => item.id)
    clock.set('2025-07-01T12:00:00.000Z')
    const other = await service.app.inject({
      method: 'POST',
      url: '/batches',
      headers: bearer('bob'),
      payload: { items: [{ imageUrl: 'https://images.example.com/find/bob.png' }] },
    })
    expect(other.statusCode).toBe(202)
    otherBatchId = (other.json() as { id: string }).id
  })
  afterAll(async () => {
    await service.close()
  })

  it('when filtered by batchId, then only that batch’s items come, and paging keeps to the batch', async () => {
    const reply = await asAlice(`batchId=${batchId}&limit=2`)
    expect(reply.statusCode).toBe(200)
    const first = reply.json() as Page
    expect(first.items).toHaveLength(2)
    const second = (await asAlice(`batchId=${batchId}&limit=2&cursor=${first.nextCursor}`)).json() as Page
    expect(second.nextCursor).toBeNull()
    expect(new Set([...first.items, ...second.items].map((item) => item.id))).toEqual(new Set(batchItems))
  })

  it('when filtered by another caller’s batchId, then nothing of it comes', async () => {
    const page = (await asAlice(`batchId=${otherBatchId}`)).json() as Page
    expect(page).toEqual({ items: [], nextCursor: null })
  })

  it('when filtered by createdAfter and createdBefore, then only captions made in [after, before) come', async () => {
    const page = (
      await asAlice('createdAfter=2025-07-01T10:00:00Z&createdBefore=2025-07-01T11:00:00Z')
    ).json() as Page
    expect(page.items.map((item) => item.id)).toEqual([lone[1]?.id])
    const fromBatch = (await asAlice('createdAfter=2025-07-01T10:30:00Z')).json() as Page
    expect(new Set(fromBatch.items.map((item) => item.id))).toEqual(new Set(batchItems))
    const before = (await asAlice('createdBefore=2025-07-01T10:00:00Z')).json() as Page
    expect(before.items.map((item) => item.id)).toEqual([lone[0]?.id])
  })

  it('when the filters are combined with status, then every one of them applies', async () => {
    const queued = (await asAlice(`status=queued&batchId=${batchId}&createdAfter=2025-07-01`)).json() as Page
    expect(queued.items.every((item) => item.status === 'queued')).toBe(true)
    const none = (
      await asAlice(`status=completed&batchId=${batchId}&createdBefore=2025-07-01T11:00:00Z`)
    ).json() as Page
    expect(none.items).toEqual([])
    const inBatchBeforeIt = (
      await asAlice(`batchId=${batchId}&createdBefore=2025-07-01T11:00:00Z`)
    ).json() as Page
    expect(inBatchBeforeIt.items).toEqual([])
  })

  it('when a filter is not well formed, then 400 names the field', async () => {
    for (const [query, field] of [
      ['batchId=nope', 'batchId'],
      ['createdAfter=yesterday', 'createdAfter'],
      ['createdBefore=2025-13-01', 'createdBefore'],
    ] as const) {
      const reply = await asAlice(query)
      expect(reply.statusCode).toBe(400)
      expect(reply.json()).toMatchObject({ code: 'validation_failed' })
      expect(JSON.stringify(reply.json().details)).toContain(field)
    }
  })
})

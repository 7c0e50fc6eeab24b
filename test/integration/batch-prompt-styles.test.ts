import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { createWorker, type Worker } from '../../src/work/worker.js'
import { uniqueImageUrl } from '../helpers/callers.js'
import { expectErrorReply, expectValidationError } from '../helpers/http.js'
import { eventually, startTestService, type TestService } from '../helpers/service.js'
import { readZip } from '../helpers/zip.js'

interface BatchBody {
  id: string
  status: 'running' | 'completed'
  total: number
  counts: Record<string, number>
  reused: number
  costUsd: number
  promptStyle: string
  promptStyles: string[]
}

interface CaptionBody {
  id: string
  status: string
  promptStyle: string
  caption: string | null
  fileName: string | null
  reusedFrom: string | null
  costUsd: number
}

type ItemBody = CaptionBody & { captions: CaptionBody[] }

const FAST_WORK = {
  WORK_INTERVAL_MS: '50',
  GOAPI_POLL_AFTER_SECONDS: '0.5',
  GOAPI_POLL_INTERVAL_SECONDS: '0.5',
  GOAPI_MAX_CONCURRENCY: '50',
}

const TAGS = 'Booru-like tag list'
const simulated = (style: string, imageUrl: string) =>
  `[simulated caption] A ${style} caption (length: any) of ${imageUrl}`

describe('batches with several prompt styles', () => {
  let service: TestService
  let worker: Worker

  const postBatch = (payload: object) => service.app.inject({ method: 'POST', url: '/batches', payload })
  const readBatch = async (id: string) =>
    (await service.app.inject({ url: `/batches/${id}` })).json() as BatchBody
  const completed = (id: string, timeoutMs = 20_000) =>
    eventually(async () => {
      const batch = await readBatch(id)
      return batch.status === 'completed' ? batch : undefined
    }, timeoutMs)
  const listItems = async (id: string, limit: number) => {
    const items: ItemBody[] = []
    let cursor: string | null = null
    do {
      const query: string = cursor ? `&cursor=${cursor}` : ''
      const reply = await service.app.inject({ url: `/batches/${id}/captions?limit=${limit}${query}` })
      expect(reply.statusCode).toBe(200)
      const page = reply.json() as { items: ItemBody[]; nextCursor: string | null }
      expect(page.items.length).toBeLessThanOrEqual(limit)
      items.push(...page.items)
      cursor = page.nextCursor
    } while (cursor)
    return items
  }
  const exportOf = (id: string, query: string) =>
    service.app.inject({ url: `/batches/${id}/export?${query}` })
  const tasksOf = (imageUrl: string) =>
    [...service.simulator.tasks.values()].filter((entry) => entry.task.input.image === imageUrl)

  beforeAll(async () => {
    service = await startTestService({ env: FAST_WORK })
    worker = createWorker(service.deps)
    worker.start()
  })
  afterAll(async () => {
    await worker.stop(1_000)
    await service.close()
  })

  it('when a 100-item batch has two styles, then it makes 200 captions, each paid once, costing $2.00, and lists each item with its captions by style', async () => {
    const urls = Array.from({ length: 100 }, () => uniqueImageUrl('styles'))
    const reply = await postBatch({
      items: urls.map((imageUrl) => ({ imageUrl })),
      promptStyles: ['Descriptive', TAGS],
    })
    expect(reply.statusCode).toBe(202)
    expect(reply.json()).toMatchObject({
      status: 'running',
      total: 200,
      counts: { queued: 200, completed: 0 },
      promptStyle: 'Descriptive',
      promptStyles: ['Descriptive', TAGS],
    })
    const done = await completed((reply.json() as BatchBody).id, 90_000)
    expect(done).toMatchObject({ total: 200, counts: { completed: 200, queued: 0 }, reused: 0, costUsd: 2 })
    for (const url of urls.slice(0, 5)) {
      expect(
        tasksOf(url)
          .map((entry) => entry.task.input.prompt_style)
          .sort(),
      ).toEqual([TAGS, 'Descriptive'])
    }

    // Pages of 30 items: each item whole on one page, its captions in the batch's order of styles.
    const items = await listItems(done.id, 30)
    expect(items).toHaveLength(100)
    items.forEach((item, index) => {
      const url = urls[index] as string
      expect(item.captions.map((caption) => [caption.promptStyle, caption.caption, caption.costUsd])).toEqual(
        [
          ['Descriptive', simulated('Descriptive', url), 0.01],
          [TAGS, simulated(TAGS, url), 0.01],
        ],
      )
      expect(item.captions.map((caption) => caption.fileName)).toEqual([item.fileName, item.fileName])
      // Today's single-style fields: the caption in the first style.
      expect(item).toMatchObject({ id: item.captions[0]?.id, promptStyle: 'Descriptive' })
    })
  }, 120_000)

  it('when an image was captioned before in one of the styles, then only that style is reused and the other is paid', async () => {
    const imageUrl = uniqueImageUrl('styles-reuse')
    const first = (await postBatch({ items: [{ imageUrl }], promptStyle: 'Descriptive' })).json() as BatchBody
    expect(first.promptStyles).toEqual(['Descriptive'])
    await completed(first.id)
    const [earlier] = await listItems(first.id, 10)

    const reply = await postBatch({ items: [{ imageUrl }], promptStyles: ['Straightforward', 'Descriptive'] })
    expect(reply.statusCode).toBe(202)
    expect(reply.json()).toMatchObject({ total: 2, reused: 1, counts: { completed: 1, queued: 1 } })
    const done = await completed((reply.json() as BatchBody).id)
    expect(done).toMatchObject({ reused: 1, costUsd: 0.01, counts: { completed: 2 } })
    const [item] = await listItems(done.id, 10)
    expect(item?.captions.map((caption) => [caption.promptStyle, caption.reusedFrom])).toEqual([
      ['Straightforward', null],
      ['Descriptive', earlier?.id],
    ])
    expect(
      tasksOf(imageUrl)
        .map((entry) => entry.task.input.prompt_style)
        .sort(),
    ).toEqual(['Descriptive', 'Straightforward'])
  })

  describe('exports', () => {
    const [cat, dog] = [uniqueImageUrl('styles-export'), uniqueImageUrl('styles-export')]
    let batchId: string

    beforeAll(async () => {
      const reply = await postBatch({
        items: [
          { imageUrl: cat, name: 'cat' },
          { imageUrl: dog, name: 'dog' },
        ],
        // Not in alphabetical order: the files follow the batch's order.
        promptStyles: [TAGS, 'Descriptive'],
        prepend: 'ohwx',
      })
      batchId = (reply.json() as BatchBody).id
      await completed(batchId)
    })

    it('when the zip is asked for, then each item is one file with one caption per line in the order of promptStyles (captions=lines, the default)', async () => {
      for (const query of ['format=zip', 'format=zip&captions=lines']) {
        const reply = await exportOf(batchId, query)
        expect(reply.statusCode).toBe(200)
        const entries = await readZip(reply.rawPayload)
        expect(entries.map((entry) => entry.name)).toEqual(['cat.txt', 'dog.txt', 'batch.jsonl'])
        expect(entries[0]?.text).toBe(
          [`ohwx, ${simulated(TAGS, cat)}`, `ohwx, ${simulated('Descriptive', cat)}`].join('\n'),
        )
        expect(entries[1]?.text.split('\n')).toEqual([
          `ohwx, ${simulated(TAGS, dog)}`,
          `ohwx, ${simulated('Descriptive', dog)}`,
        ])
      }
    })

    it('when captions=files is asked for, then each caption is <name>.<style-slug>.txt', async () => {
      const reply = await exportOf(batchId, 'captions=files')
      expect(reply.statusCode).toBe(200)
      const entries = await readZip(reply.rawPayload)
      expect(entries.map((entry) => entry.name)).toEqual([
        'cat.booru-like-tag-list.txt',
        'cat.descriptive.txt',
        'dog.booru-like-tag-list.txt',
        'dog.descriptive.txt',
        'batch.jsonl',
      ])
      expect(entries[0]?.text).toBe(`ohwx, ${simulated(TAGS, cat)}`)
      expect(entries[3]?.text).toBe(`ohwx, ${simulated('Descriptive', dog)}`)
    })

    it('when jsonl or csv is asked for, then each item carries its captions by style', async () => {
      const jsonl = await exportOf(batchId, 'format=jsonl')
      const records = jsonl.body
        .split('\n')
        .filter((line) => line !== '')
        .map((line) => JSON.parse(line))
      expect(records[0]).toEqual({
        name: 'cat',
        imageUrl: cat,
        status: 'completed',
        caption: `ohwx, ${simulated(TAGS, cat)}`,
        error: '',
        captions: [
          { promptStyle: TAGS, status: 'completed', caption: `ohwx, ${simulated(TAGS, cat)}`, error: '' },
          {
            promptStyle: 'Descriptive',
            status: 'completed',
            caption: `ohwx, ${simulated('Descriptive', cat)}`,
            error: '',
          },
        ],
      })
      expect(records).toHaveLength(2)
      const csv = (await exportOf(batchId, 'format=csv')).body.split('\r\n')
      expect(csv[0]).toBe('name,imageUrl,status,caption,error,promptStyle')
      expect(csv.slice(1, 5).map((row) => [row.split(',')[0], row.split(',').at(-1)])).toEqual([
        ['cat', TAGS],
        ['cat', 'Descriptive'],
        ['dog', TAGS],
        ['dog', 'Descriptive'],
      ])
    })

    it('when the trainer options come with several styles, then every file is under the folder with the extension, and tag options clean only the tag-list line', async () => {
      const reply = await exportOf(batchId, 'format=zip&folder=10_ohwx&ext=caption&tagsMax=1')
      expect(reply.statusCode).toBe(200)
      const entries = await readZip(reply.rawPayload)
      expect(entries.map((entry) => entry.name)).toEqual([
        '10_ohwx/cat.caption',
        '10_ohwx/dog.caption',
        '10_ohwx/batch.jsonl',
      ])
      // The tag list keeps its first tag (the prepend); the prose caption is left whole.
      expect(entries[0]?.text.split('\n')).toEqual(['ohwx', `ohwx, ${simulated('Descriptive', cat)}`])
      const files = await readZip((await exportOf(batchId, 'captions=files&ext=caption')).rawPayload)
      expect(files.map((entry) => entry.name).slice(0, 2)).toEqual([
        'cat.booru-like-tag-list.caption',
        'cat.descriptive.caption',
      ])
    })

    it('when captions= comes with a format other than zip, then 400 names it', async () => {
      expectValidationError(await exportOf(batchId, 'format=jsonl&captions=files'), 'captions')
    })

    it('when captions= is not a layout, then 400 names it', async () => {
      const body = expectValidationError(await exportOf(batchId, 'captions=columns'), 'captions')
      expect(body.message).toContain('lines, files')
    })
  })
})

describe('POST /batches with promptStyles, refused or canceled', () => {
  let service: TestService
  const post = (payload: object) =>
    service.app.inject({
      method: 'POST',
      url: '/batches',
      payload: { items: [{ imageUrl: uniqueImageUrl('bad-styles') }], ...payload },
    })

  beforeAll(async () => {
    service = await startTestService()
  })
  afterAll(async () => {
    await service.close()
  })

  it('when promptStyles repeats a style, is empty, has more than 4, holds an unknown style or comes with promptStyle, then 400 names it and nothing is written', async () => {
    const before = await service.db.batch.count()
    const repeated = expectValidationError(
      await post({ promptStyles: ['Descriptive', 'Descriptive'] }),
      'promptStyles',
    )
    expect(repeated.message).toContain('must not repeat a style')
    expectValidationError(await post({ promptStyles: [] }), 'promptStyles')
    const five = ['Descriptive', 'Straightforward', 'MidJourney', TAGS, 'Art Critic']
    expect(expectValidationError(await post({ promptStyles: five }), 'promptStyles').message).toContain(
      '1 to 4',
    )
    expectValidationError(await post({ promptStyles: ['Haiku'] }), 'promptStyles')
    expectValidationError(await post({ promptStyles: 'Descriptive' }), 'promptStyles')
    const both = expectValidationError(
      await post({ promptStyle: 'Descriptive', promptStyles: [TAGS] }),
      'promptStyles',
    )
    expect(both.message).toContain('promptStyle or promptStyles, not both')
    expectErrorReply(await post({ promptStyles: [TAGS], dryRun: true, promptStyle: TAGS }), 400)
    expect(await service.db.batch.count()).toBe(before)
  })

  it("when one style's caption of an item failed, then retrying the batch queues that caption alone and the batch runs again", async () => {
    const reply = await service.app.inject({
      method: 'POST',
      url: '/batches',
      payload: { items: [{ imageUrl: uniqueImageUrl('retry-styles') }], promptStyles: ['Descriptive', TAGS] },
    })
    const id = reply.json().id as string
    // The tag list fails; the Descriptive caption is canceled: the batch is complete.
    await service.deps.sql.query(
      `UPDATE captions SET status = 'failed', error_code = 'goapi_task_failed', error_message = 'failed',
          completed_at = now(), updated_at = now()
        WHERE batch_id = $1 AND prompt_style = $2`,
      [id, TAGS],
    )
    await service.app.inject({ method: 'POST', url: `/batches/${id}/cancel` })
    expect((await service.app.inject({ url: `/batches/${id}` })).json()).toMatchObject({
      status: 'completed',
      counts: { failed: 1, canceled: 1 },
    })
    const retried = await service.app.inject({ method: 'POST', url: `/batches/${id}/retry` })
    expect(retried.json()).toEqual({ retried: 1 })
    expect((await service.app.inject({ url: `/batches/${id}` })).json()).toMatchObject({
      status: 'running',
      counts: { queued: 1, failed: 0, canceled: 1 },
    })
    const [item] = (await service.app.inject({ url: `/batches/${id}/captions` })).json().items
    expect(
      item.captions.map((caption: { promptStyle: string; status: string }) => [
        caption.promptStyle,
        caption.status,
      ]),
    ).toEqual([
      ['Descriptive', 'canceled'],
      [TAGS, 'queued'],
    ])
  })

  it('when a two-style batch is canceled before anything is sent, then every caption of every item is canceled and the batch completes', async () => {
    const reply = await service.app.inject({
      method: 'POST',
      url: '/batches',
      payload: {
        items: [{ imageUrl: uniqueImageUrl('cancel-styles') }, { imageUrl: uniqueImageUrl('cancel-styles') }],
        promptStyles: ['Descriptive', TAGS, 'Straightforward'],
      },
    })
    expect(reply.json()).toMatchObject({ total: 6, counts: { queued: 6 } })
    const canceled = await service.app.inject({ method: 'POST', url: `/batches/${reply.json().id}/cancel` })
    expect(canceled.json()).toMatchObject({
      status: 'completed',
      total: 6,
      counts: { canceled: 6 },
      costUsd: 0,
    })
  })
})

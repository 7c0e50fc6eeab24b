import { randomUUID } from 'node:crypto'
import { get } from 'node:http'
import { setTimeout as sleep } from 'node:timers/promises'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { type ExportFormat, openBatchExport, PAGE_SIZE } from '../../src/batches/export.service.js'
import type { Sql } from '../../src/db/pool.js'
import { type SeedItem, seedBatch } from '../helpers/batches.js'
import { authEnv, bearer, getAs } from '../helpers/callers.js'
import { expectErrorReply, expectValidationError } from '../helpers/http.js'
import { eventually, startTestService, type TestService } from '../helpers/service.js'
import { readZip } from '../helpers/zip.js'

const TRICKY_CAPTION = 'A cat says "hi", twice,\nthen naps.\r\nThe end'

/** The batch most tests read: every status, hostile names, repeats, and text CSV must quote. */
const ITEMS: SeedItem[] = [
  { name: '../../etc/passwd', caption: '  a cat on a mat,  ' },
  { name: '..\\x', caption: TRICKY_CAPTION },
  { name: '.hidden', caption: 'hidden in plain sight' },
  { name: 'cat', caption: 'first cat' },
  { name: 'cat', caption: 'second cat' },
  { name: 'queued-one', status: 'queued' },
  { name: 'running', status: 'processing' },
  { name: 'broken', status: 'failed', errorCode: 'goapi_task_failed' },
  { imageUrl: 'https://images.example.com/photos/dog.jpg', caption: ', , dog ,' },
]

interface Record {
  name: string
  imageUrl: string
  status: string
  caption: string
  error: string
}

/** RFC 4180: fields split on commas outside quotes, records on CRLF outside quotes, `""` inside quotes. */
function parseCsv(text: string): string[][] {
  const rows: string[][] = []
  let row: string[] = []
  let field = ''
  let quoted = false
  for (let index = 0; index < text.length; index++) {
    const character = text[index]
    if (quoted) {
      if (character === '"' && text[index + 1] === '"') {
        field += '"'
        index++
      } else if (character === '"') quoted = false
      else field += character
    } else if (character === '"') quoted = true
    else if (character === ',') {
      row.push(field)
      field = ''
    } else if (character === '\r' && text[index + 1] === '\n') {
      row.push(field)
      rows.push(row)
      row = []
      field = ''
      index++
    } else field += character
  }
  expect(field === '' && row.length === 0, 'the CSV ends with CRLF').toBe(true)
  return rows
}

const jsonLines = (text: string) =>
  text
    .split('\n')
    .filter((line) => line !== '')
    .map((line) => JSON.parse(line) as Record)

describe('GET /batches/:id/export', () => {
  let service: TestService
  let batch: Awaited<ReturnType<typeof seedBatch>>
  let expected: Record[]

  /** No connection stays taken: the pool comes back to all idle (a worker round may hold one for a moment). */
  const expectPoolSettlesIdle = () =>
    eventually(async () =>
      service.deps.sql.waitingCount === 0 && service.deps.sql.idleCount === service.deps.sql.totalCount
        ? true
        : undefined,
    )

  const download = (id: string, format?: ExportFormat | string) =>
    getAs(service, 'alice', `/batches/${id}/export${format === undefined ? '' : `?format=${format}`}`)

  beforeAll(async () => {
    service = await startTestService({ env: authEnv(['alice', 'bob']) })
    batch = await seedBatch(service.deps.sql, {
      caller: 'alice',
      prepend: ' trigger_word , ',
      append: ',  photo style ',
      items: ITEMS,
    })
    expected = [
      {
        name: '______etc_passwd',
        imageUrl: expect.any(String),
        status: 'completed',
        caption: 'trigger_word, a cat on a mat, photo style',
        error: '',
      },
      {
        name: '___x',
        imageUrl: expect.any(String),
        status: 'completed',
        caption: `trigger_word, ${TRICKY_CAPTION}, photo style`,
        error: '',
      },
      {
        name: '_hidden',
        imageUrl: expect.any(String),
        status: 'completed',
        caption: 'trigger_word, hidden in plain sight, photo style',
        error: '',
      },
      {
        name: 'cat',
        imageUrl: expect.any(String),
        status: 'completed',
        caption: 'trigger_word, first cat, photo style',
        error: '',
      },
      {
        name: 'cat-2',
        imageUrl: expect.any(String),
        status: 'completed',
        caption: 'trigger_word, second cat, photo style',
        error: '',
      },
      { name: 'queued-one', imageUrl: expect.any(String), status: 'queued', caption: '', error: '' },
      { name: 'running', imageUrl: expect.any(String), status: 'processing', caption: '', error: '' },
      {
        name: 'broken',
        imageUrl: expect.any(String),
        status: 'failed',
        caption: '',
        error: 'goapi_task_failed',
      },
      {
        name: 'dog',
        imageUrl: 'https://images.example.com/photos/dog.jpg',
        status: 'completed',
        caption: 'trigger_word, dog, photo style',
        error: '',
      },
    ]
  })
  afterAll(async () => {
    await service?.close()
  })

  it('when jsonl is asked for, then one record per item comes in item order, whatever its status', async () => {
    const reply = await download(batch.id, 'jsonl')
    expect(reply.statusCode).toBe(200)
    expect(reply.headers['content-type']).toBe('application/x-ndjson')
    expect(reply.headers['content-disposition']).toBe(`attachment; filename="batch-${batch.id}.jsonl"`)
    expect(reply.body.endsWith('\n')).toBe(true)
    const records = jsonLines(reply.body)
    expect(records).toEqual(expected)
    for (const record of records)
      expect(Object.keys(record)).toEqual(['name', 'imageUrl', 'status', 'caption', 'error'])
  })

  it('when csv is asked for, then a header row and the same records follow, quoted as RFC 4180 says', async () => {
    const reply = await download(batch.id, 'csv')
    expect(reply.statusCode).toBe(200)
    expect(reply.headers['content-type']).toBe('text/csv; charset=utf-8')
    expect(reply.headers['content-disposition']).toBe(`attachment; filename="batch-${batch.id}.csv"`)
    expect(reply.body.startsWith('name,imageUrl,status,caption,error\r\n')).toBe(true)
    expect(reply.body).toContain(
      '"trigger_word, A cat says ""hi"", twice,\nthen naps.\r\nThe end, photo style"',
    )
    const [header, ...rows] = parseCsv(reply.body)
    expect(header).toEqual(['name', 'imageUrl', 'status', 'caption', 'error'])
    const records = rows.map(([name, imageUrl, status, caption, error]) => ({
      name,
      imageUrl,
      status,
      caption,
      error,
    }))
    expect(records).toEqual(expected)
    expect(records.map((record) => record.imageUrl)).toEqual(
      jsonLines((await download(batch.id, 'jsonl')).body).map((record) => record.imageUrl),
    )
  })

  it('when a cell would run as a spreadsheet formula, then the csv prefixes it with a single quote and quotes it', async () => {
    const hostile = await seedBatch(service.deps.sql, {
      caller: 'alice',
      items: [
        { name: '=HYPERLINK("https://evil.example","x")', caption: '=1+1' },
        { name: '+1+1', caption: '+cmd' },
        { name: '-2', caption: '-2+3' },
        { name: '@SUM(A1)', caption: '@SUM(1,2)' },
        { name: 'plain', caption: '\t=tab first' },
        { name: 'a=b', caption: 'x\r=1' },
      ],
    })
    const body = (await download(hostile.id, 'csv')).body
    const rows = parseCsv(body).slice(1)
    expect(rows.map(([name]) => name)).toEqual([
      "'=HYPERLINK(_https___evil.example_,_x_)",
      "'+1+1",
      "'-2",
      "'@SUM(A1)",
      'plain',
      'a=b',
    ])
    // Exported text is trimmed of surrounding whitespace, so the tab is gone, and the = after it is caught.
    expect(rows.map((row) => row[3])).toEqual([
      "'=1+1",
      "'+cmd",
      "'-2+3",
      "'@SUM(1,2)",
      "'=tab first",
      'x\r=1',
    ])
    expect(body).toContain(`"'=1+1"`)
    expect(body).toContain(`"'@SUM(1,2)"`)
    // jsonl is not for spreadsheets: it keeps the text as it is.
    const records = jsonLines((await download(hostile.id, 'jsonl')).body)
    expect(records.map((record) => record.caption)).toEqual([
      '=1+1',
      '+cmd',
      '-2+3',
      '@SUM(1,2)',
      '=tab first',
      'x\r=1',
    ])
  })

  it('when zip is asked for, then each completed item is a .txt with prepend and append, and batch.jsonl closes it', async () => {
    const reply = await download(batch.id, 'zip')
    expect(reply.statusCode).toBe(200)
    expect(reply.headers['content-type']).toBe('application/zip')
    expect(reply.headers['content-disposition']).toBe(`attachment; filename="batch-${batch.id}.zip"`)
    const entries = await readZip(reply.rawPayload)
    expect(entries.map((entry) => entry.name)).toEqual([
      '______etc_passwd.txt',
      '___x.txt',
      '_hidden.txt',
      'cat.txt',
      'cat-2.txt',
      'dog.txt',
      'batch.jsonl',
    ])
    const texts = Object.fromEntries(entries.map((entry) => [entry.name, entry.text]))
    expect(texts['______etc_passwd.txt']).toBe('trigger_word, a cat on a mat, photo style')
    expect(texts['___x.txt']).toBe(`trigger_word, ${TRICKY_CAPTION}, photo style`)
    expect(texts['cat.txt']).toBe('trigger_word, first cat, photo style')
    expect(texts['cat-2.txt']).toBe('trigger_word, second cat, photo style')
    expect(texts['dog.txt']).toBe('trigger_word, dog, photo style')
    expect(jsonLines(texts['batch.jsonl'] as string)).toEqual(expected)
    for (const entry of entries) {
      expect(entry.name.endsWith('/'), entry.name).toBe(false)
      expect(entry.name.includes('..') || /^[./\\]/.test(entry.name), entry.name).toBe(false)
    }
  })

  it('when no format is given, then the zip is sent', async () => {
    const reply = await download(batch.id)
    expect(reply.statusCode).toBe(200)
    expect(reply.headers['content-type']).toBe('application/zip')
    expect((await readZip(reply.rawPayload)).at(-1)?.name).toBe('batch.jsonl')
  })

  it('when a batch has no prepend or append and nothing completed, then the zip holds batch.jsonl alone', async () => {
    const pending = await seedBatch(service.deps.sql, {
      caller: 'alice',
      items: [{ status: 'queued' }, { status: 'failed', errorCode: 'timeout' }],
    })
    const entries = await readZip((await download(pending.id, 'zip')).rawPayload)
    expect(entries.map((entry) => entry.name)).toEqual(['batch.jsonl'])
    expect(
      jsonLines(entries[0]?.text as string).map((record) => [record.name, record.status, record.error]),
    ).toEqual([
      ['0', 'queued', ''],
      ['1', 'failed', 'timeout'],
    ])
    const plain = await seedBatch(service.deps.sql, {
      caller: 'alice',
      items: [{ caption: ' just the caption ' }],
    })
    expect((await readZip((await download(plain.id, 'zip')).rawPayload))[0]?.text).toBe('just the caption')
  })

  it('when a batch spans several pages, then every item comes once, in item order', async () => {
    const count = PAGE_SIZE * 2 + 3
    // Names repeat from here on, so repeats are told apart across pages.
    const repeatAt = PAGE_SIZE + 50
    const big = await seedBatch(service.deps.sql, {
      caller: 'alice',
      prepend: 'tw',
      items: Array.from({ length: count }, (_, index) => ({
        name: `item-${index % repeatAt}`,
        ...(index % 10 === 9
          ? { status: 'failed' as const, errorCode: 'timeout' }
          : { caption: `caption ${index}` }),
      })),
    })
    const records = jsonLines((await download(big.id, 'jsonl')).body)
    expect(records.map((record) => record.name)).toEqual(
      big.fileNames.map((name) => name.replace(/\.txt$/, '')),
    )
    expect(records[repeatAt + 10]).toMatchObject({
      name: 'item-10-2',
      caption: `tw, caption ${repeatAt + 10}`,
    })
    const csvRows = parseCsv((await download(big.id, 'csv')).body)
    expect(csvRows).toHaveLength(count + 1)
    const entries = await readZip((await download(big.id, 'zip')).rawPayload)
    const completed = big.fileNames.filter((_, index) => index % 10 !== 9)
    expect(entries.map((entry) => entry.name)).toEqual([...completed, 'batch.jsonl'])
    expect(entries.find((entry) => entry.name === 'item-10-2.txt')?.text).toBe(`tw, caption ${repeatAt + 10}`)
  })

  it('when the batch was posted, then names from POST /batches come out of the zip unable to escape', async () => {
    const posted = await service.app.inject({
      method: 'POST',
      url: '/batches',
      headers: bearer('alice'),
      payload: {
        prepend: 'ohwx',
        reuse: false,
        items: [
          { imageUrl: 'https://images.example.com/a.png', name: '../../etc/passwd' },
          { imageUrl: 'https://images.example.com/b.png', name: '..\\x' },
          { imageUrl: 'https://images.example.com/c.png', name: '.hidden' },
          { imageUrl: 'https://images.example.com/d.png', name: 'C:evil' },
          { imageUrl: 'https://images.example.com/%2e%2e%2fup.png' },
          { imageUrl: 'https://images.example.com/e.png', name: 'same' },
          { imageUrl: 'https://images.example.com/f.png', name: 'same' },
        ],
      },
    })
    expect(posted.statusCode).toBe(202)
    const { id } = posted.json() as { id: string }
    // As GoAPI's answers would leave them.
    await service.deps.sql.query(
      `UPDATE captions SET status = 'completed', caption = 'text ' || item_index, completed_at = now(),
        updated_at = now() WHERE batch_id = $1`,
      [id],
    )
    const entries = await readZip((await download(id, 'zip')).rawPayload)
    expect(entries.map((entry) => entry.name)).toEqual([
      '______etc_passwd.txt',
      '___x.txt',
      '_hidden.txt',
      'C_evil.txt',
      '___up.txt',
      'same.txt',
      'same-2.txt',
      'batch.jsonl',
    ])
    expect(entries[6]?.text).toBe('ohwx, text 6')
  })

  it("when another caller's batch or an unknown id is asked for, then 404 not_found alike", async () => {
    const foreign = expectErrorReply(
      await getAs(service, 'bob', `/batches/${batch.id}/export?format=jsonl`),
      404,
      'not_found',
    )
    const unknownId = randomUUID()
    const missing = expectErrorReply(await download(unknownId, 'zip'), 404, 'not_found')
    expect(foreign.message).toBe(`batch ${batch.id} was not found`)
    expect(missing.message).toBe(`batch ${unknownId} was not found`)
    expectErrorReply(await getAs(service, undefined, `/batches/${batch.id}/export`), 401, 'unauthorized')
  })

  it('when the format is unknown or the query has another key, then 400 validation_failed names it', async () => {
    const unknown = expectValidationError(await download(batch.id, 'pdf'), 'format')
    expect(unknown.code).toBe('validation_failed')
    expect(unknown.message).toContain('jsonl, csv, zip')
    const extra = expectValidationError(
      await getAs(service, 'alice', `/batches/${batch.id}/export?fmt=csv`),
      'fmt',
    )
    expect(extra.code).toBe('validation_failed')
    expectValidationError(await getAs(service, 'alice', '/batches/not-a-uuid/export'), 'id')
  })

  describe('when the caller goes away mid-download', () => {
    let big: Awaited<ReturnType<typeof seedBatch>>
    beforeAll(async () => {
      big = await seedBatch(service.deps.sql, {
        caller: 'alice',
        items: Array.from({ length: PAGE_SIZE * 10 }, (_, index) => ({
          caption: `${randomUUID()} `.repeat(12) + index,
        })),
      })
    })

    /** The service's pool, counting the statements an export sends. */
    function countingSql(): { sql: Sql; statements: () => number } {
      let statements = 0
      const pool = service.deps.sql
      const sql = new Proxy(pool, {
        get(target, key) {
          if (key === 'query') {
            return (...args: Parameters<Sql['query']>) => {
              statements++
              return (target.query as (...a: unknown[]) => unknown)(...args)
            }
          }
          return Reflect.get(target, key)
        },
      })
      return { sql, statements: () => statements }
    }

    it.each(['zip', 'jsonl', 'csv'] as const)(
      'when a %s download is dropped after its first bytes, then no more pages are read and nothing is left open',
      async (format) => {
        const counted = countingSql()
        const exported = await openBatchExport(
          { ...service.deps, sql: counted.sql },
          { batchId: big.id, caller: 'alice', format },
        )
        const errors: unknown[] = []
        exported.body.on('error', (error) => errors.push(error))
        const first = await new Promise<Buffer>((resolve) => exported.body.once('data', resolve))
        exported.body.pause()
        expect(first.length).toBeGreaterThan(0)
        await sleep(100)
        const before = counted.statements()
        // The batch lookup and the few pages the stream buffers hold; the other pages wait for the caller.
        expect(before).toBeLessThanOrEqual(6)
        exported.body.destroy()
        await sleep(200)
        expect(counted.statements()).toBeLessThanOrEqual(before + 1)
        expect(errors).toEqual([])
        await expectPoolSettlesIdle()
      },
    )

    it('when the socket is closed mid-response, then the service goes on answering', async () => {
      const url = new URL(`${service.baseUrl}/batches/${big.id}/export?format=zip`)
      await new Promise<void>((resolve, reject) => {
        const request = get(url, { headers: bearer('alice') }, (response) => {
          expect(response.statusCode).toBe(200)
          response.once('data', () => {
            request.destroy()
            resolve()
          })
        })
        request.on('error', (error) => (request.destroyed ? undefined : reject(error)))
      })
      const connections = () =>
        new Promise<number>((resolve) => service.app.server.getConnections((_, count) => resolve(count)))
      await eventually(async () => ((await connections()) === 0 ? true : undefined))
      await expectPoolSettlesIdle()
      const again = await download(big.id, 'zip')
      expect(again.statusCode).toBe(200)
      expect(await readZip(again.rawPayload)).toHaveLength(PAGE_SIZE * 10 + 1)
      expect(service.logs.filter((line) => (line.level as number) >= 50)).toEqual([])
    })
  })
})

import { randomUUID } from 'node:crypto'
import fc from 'fast-check'
import pg from 'pg'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { pageJsonText } from '../../src/api/json-text.js'
import { CALLBACK_STATES } from '../../src/callbacks/callbacks.schemas.js'
import { readCallerCaptionJson } from '../../src/captions/caption-json.repository.js'
import { listCaptions } from '../../src/captions/caption-list.repository.js'
import { findCallerCaption } from '../../src/captions/caption-rows.repository.js'
import { captionList, captionResource } from '../../src/captions/captions.schemas.js'
import { toCaptionResource } from '../../src/captions/captions.service.js'
import { CAPTION_STATUSES } from '../../src/captions/statuses.js'
import { createTestDatabase } from '../helpers/database.js'
import { UNSTORABLE_CHARACTERS, wellFormedText } from '../helpers/hostile-arbitraries.js'

// GET /captions/{id} sends the resource as PostgreSQL writes it (CAPTION_RESOURCE_JSON); every other
// answer builds it in JavaScript (toCaptionResource). Here the two must be one resource, whatever the row.

let database: { url: string; drop: () => Promise<void> }
let sql: pg.Pool

beforeAll(async () => {
  database = await createTestDatabase()
  sql = new pg.Pool({ connectionString: database.url, max: 2 })
  // A batch the batch items below belong to.
  await sql.query(
    `INSERT INTO batches (id, caller, total, open_items, prompt_style, caption_length, reuse, created_at, updated_at)
      VALUES ($1, 'alice', 1000, 0, 'Descriptive', 'any', false, now(), now())`,
    [BATCH_ID],
  )
})
afterAll(async () => {
  await sql.end()
  await database.drop()
})

const BATCH_ID = randomUUID()
let items = 0

interface Row {
  status: (typeof CAPTION_STATUSES)[number]
  caption: string | null
  errorCode: string | null
  errorMessage: string | null
  goapiTaskId: string | null
  /** jsonb text, or null for SQL NULL. */
  metadata: string | null
  callbackUrl: string | null
  callbackState: (typeof CALLBACK_STATES)[number]
  callbackAttempts: number
  batchItem: { name: string | null; fileName: string } | null
  reusedFrom: string | null
  goapiTasks: number
  retries: number
  createdAt: Date
  completedAt: Date | null
}

const PLAIN: Row = {
  status: 'queued',
  caption: null,
  errorCode: null,
  errorMessage: null,
  goapiTaskId: null,
  metadata: '{}',
  callbackUrl: null,
  callbackState: 'none',
  callbackAttempts: 0,
  batchItem: null,
  reusedFrom: null,
  goapiTasks: 0,
  retries: 0,
  createdAt: new Date('2026-12-07T01:02:03.004Z'),
  completedAt: null,
}

async function insert(row: Row): Promise<string> {
  const id = randomUUID()
  await sql.query(
    `INSERT INTO captions (id, caller, status, image_url, prompt_style, caption_length, caption, error_code,
        error_message, goapi_task_id, metadata, callback_url, callback_state, callback_attempts, batch_id,
        item_index, name, file_name, reused_from, goapi_tasks, retries, created_at, updated_at, completed_at)
      VALUES ($1, 'alice', $2, 'https://images.example.com/json/cat.png', 'Booru tag list', 'long', $3, $4, $5,
        $6, $7::jsonb, $8, $9, $10, $11, $12, $13, $14, $15, $16, $17, $18, $18::timestamptz + interval '1.5 seconds', $19)`,
    [
      id,
      row.status,
      row.caption,
      row.errorCode,
      row.errorMessage,
      row.goapiTaskId,
      row.metadata,
      row.callbackUrl,
      row.callbackState,
      row.callbackAttempts,
      row.batchItem ? BATCH_ID : null,
      row.batchItem ? items++ : null,
      row.batchItem?.name ?? null,
      row.batchItem?.fileName ?? null,
      row.reusedFrom,
      row.goapiTasks,
      row.retries,
      row.createdAt,
      row.completedAt,
    ],
  )
  return id
}

/** The resource both ways, and PostgreSQL's text as it is. */
async function bothWays(id: string) {
  const written = await readCallerCaptionJson(sql, id, 'alice')
  const view = await findCallerCaption(sql, id, 'alice')
  if (!written || !view) throw new Error(`caption ${id} not found`)
  return {
    text: written.resource,
    fromSql: JSON.parse(written.resource),
    fromRow: toCaptionResource(view),
    written,
  }
}

describe('the resource PostgreSQL writes for GET /captions/{id}', () => {
  const cases: Record<string, Partial<Row>> = {
    'a queued caption with no task': {},
    'a completed caption': {
      status: 'completed',
      caption: 'A tabby cat asleep on a windowsill.',
      goapiTaskId: 'task-1',
      goapiTasks: 1,
      completedAt: new Date('2026-12-07T01:02:09.999Z'),
    },
    'a failed caption with its error': {
      status: 'failed',
      errorCode: 'goapi_task_failed',
      errorMessage: 'the task failed: "out of credits"\n',
      goapiTaskId: 'task-2',
      goapiTasks: 3,
      retries: 2,
    },
    'an error code without a message': { status: 'failed', errorCode: 'deadline_exceeded' },
    'an empty error code, shown as no error': { status: 'failed', errorCode: '', errorMessage: 'ignored' },
    'a canceled caption': {
      status: 'canceled',
      errorCode: 'canceled',
      errorMessage: 'canceled by the caller',
    },
    'a batch item with a name': { batchItem: { name: 'cats/001 tabby', fileName: 'cats_001_tabby.txt' } },
    'a batch item without a name': { batchItem: { name: null, fileName: 'item-00000.txt' } },
    'a reused caption': { status: 'completed', caption: 'Reused.', reusedFrom: randomUUID(), goapiTasks: 0 },
    'a callback on its third attempt': {
      callbackUrl: 'https://hooks.example.com/captions?x=1&y="2"',
      callbackState: 'pending',
      callbackAttempts: 3,
    },
    'SQL NULL metadata': { metadata: null },
    'JSON null metadata': { metadata: 'null' },
    'nested metadata': {
      metadata: JSON.stringify({
        a: { b: [1, 2.5, -0.001, 1e21, true, null] },
        'key with "quotes"': 'é\u2028',
      }),
    },
    'a timestamp on a whole second, another before 1970': {
      createdAt: new Date('1969-07-20T20:17:00.000Z'),
      completedAt: new Date('2026-01-01T00:00:00.000Z'),
    },
    'many tasks': { goapiTasks: 1234567, retries: 99 },
  }
  for (const [name, row] of Object.entries(cases)) {
    it(`is the resource toCaptionResource builds: ${name}`, async () => {
      const { fromSql, fromRow } = await bothWays(await insert({ ...PLAIN, ...row }))
      expect(fromSql).toEqual(fromRow)
      // The same fields in the same order, and valid for the documented schema.
      expect(Object.keys(fromSql)).toEqual(Object.keys(fromRow))
      expect(captionResource.safeParse(fromSql).success).toBe(true)
    })
  }

  it('is the same text Fastify writes for it, but for the spacing inside metadata', async () => {
    const { text, fromRow } = await bothWays(
      await insert({
        ...PLAIN,
        status: 'completed',
        caption: 'Line one.\nLine "two"\t\\ \u0001',
        metadata: '{}',
      }),
    )
    expect(text).toBe(JSON.stringify(fromRow))
  })

  it('names the caption and its task for the request log', async () => {
    const id = await insert({ ...PLAIN, goapiTaskId: 'task-9' })
    const { written } = await bothWays(id)
    expect(written).toMatchObject({ id, goapiTaskId: 'task-9' })
  })

  it('is what a page of GET /captions holds, newest first, with its place for the next cursor', async () => {
    const ids = [
      await insert({ ...PLAIN, createdAt: new Date('2030-01-01T00:00:00.001Z') }),
      await insert({
        ...PLAIN,
        status: 'failed',
        errorCode: 'x',
        createdAt: new Date('2030-01-01T00:00:00.002Z'),
      }),
      await insert({ ...PLAIN, metadata: null, createdAt: new Date('2030-01-01T00:00:00.003Z') }),
    ]
    const listed = await listCaptions(sql, {
      caller: 'alice',
      filters: { createdAfter: new Date('2030-01-01T00:00:00.000Z') },
      limit: 10,
      after: undefined,
    })
    expect(listed.map((row) => row.id)).toEqual([...ids].reverse())
    expect(listed[0]?.createdAt).toEqual(new Date('2030-01-01T00:00:00.003Z'))
    const page = JSON.parse(pageJsonText(listed, 'next'))
    expect(captionList.safeParse(page).success).toBe(true)
    expect(page.nextCursor).toBe('next')
    for (const [index, item] of page.items.entries()) {
      const view = await findCallerCaption(sql, listed[index]?.id ?? '', 'alice')
      expect(item).toEqual(view && toCaptionResource(view))
    }
    expect(JSON.parse(pageJsonText([], null))).toEqual({ items: [], nextCursor: null })
  })

  it("is not found for another caller, or for an id that is no caption's", async () => {
    const id = await insert(PLAIN)
    expect(await readCallerCaptionJson(sql, id, 'bob')).toBeNull()
    expect(await readCallerCaptionJson(sql, randomUUID(), 'alice')).toBeNull()
  })

  it('is the resource toCaptionResource builds, for any text, metadata, counts and times', async () => {
    const storable = wellFormedText.filter((text) => !UNSTORABLE_CHARACTERS.some((c) => text.includes(c)))
    const metadata = fc.dictionary(
      storable,
      fc.oneof(
        storable,
        fc.double({ noNaN: true, noDefaultInfinity: true }),
        fc.boolean(),
        fc.constant(null),
      ),
      { maxKeys: 4 },
    )
    const instant = fc.date({
      min: new Date('1900-01-01T00:00:00Z'),
      max: new Date('2200-01-01T00:00:00Z'),
      noInvalidDate: true,
    })
    const row = fc.record({
      status: fc.constantFrom(...CAPTION_STATUSES),
      caption: fc.option(storable),
      errorCode: fc.option(storable),
      errorMessage: fc.option(storable),
      goapiTaskId: fc.option(storable),
      metadata: metadata.map((value) => JSON.stringify(value)),
      callbackUrl: fc.option(storable),
      callbackState: fc.constantFrom(...CALLBACK_STATES),
      callbackAttempts: fc.nat(1000),
      batchItem: fc.option(fc.record({ name: fc.option(storable), fileName: storable })),
      reusedFrom: fc.option(fc.uuid({ version: 4 })),
      goapiTasks: fc.nat(100_000),
      retries: fc.nat(100),
      createdAt: instant,
      completedAt: fc.option(instant),
    })
    await fc.assert(
      fc.asyncProperty(row, async (generated) => {
        // Task ids and a batch's file names are unique.
        const unique = randomUUID()
        const { fromSql, fromRow } = await bothWays(
          await insert({
            ...generated,
            goapiTaskId: generated.goapiTaskId === null ? null : `${generated.goapiTaskId}${unique}`,
            batchItem: generated.batchItem && {
              ...generated.batchItem,
              fileName: `${generated.batchItem.fileName}${unique}`,
            },
          }),
        )
        expect(fromSql).toEqual(fromRow)
        expect(Object.keys(fromSql)).toEqual(Object.keys(fromRow))
      }),
      { numRuns: 150 },
    )
  })
})

import { createServer, type Server } from 'node:http'
import type { AddressInfo } from 'node:net'
import { buffer } from 'node:stream/consumers'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { openBatchExport } from '../../src/batches/export.service.js'
import { seedBatch } from '../helpers/batches.js'
import { getAs } from '../helpers/callers.js'
import { expectValidationError } from '../helpers/http.js'
import { startTestService, type TestService } from '../helpers/service.js'
import { readZip } from '../helpers/zip.js'

/** A 1×1 PNG. */
const PNG = Buffer.from(
  'iVBORw0KGgoAAAANSUhEUgAAAAEAAAABCAYAAAAfFcSJAAAADUlEQVR42mNk+M9QDwADhgGAWjR9awAAAABJRU5ErkJggg==',
  'base64',
)
const JPEG = Buffer.from([0xff, 0xd8, 0xff, 0xe0, 0x00, 0x10, 0x4a, 0x46, 0x49, 0x46, 0xff, 0xd9])
const MAX_BYTES = 1000

interface Record {
  name: string
  status: string
  caption: string
  imageError?: string
}

const jsonLines = (text: string) =>
  text
    .split('\n')
    .filter((line) => line !== '')
    .map((line) => JSON.parse(line) as Record)

/** The images a trainer's batch points at: one good, one missing, oversized ones, one not an image. */
function startImageServer(): Promise<{ server: Server; url: string; hits: Map<string, number> }> {
  const hits = new Map<string, number>()
  const server = createServer((request, response) => {
    const path = request.url ?? ''
    hits.set(path, (hits.get(path) ?? 0) + 1)
    if (path === '/cat.png') response.writeHead(200, { 'content-type': 'image/png' }).end(PNG)
    else if (path === '/photo') response.writeHead(200, { 'content-type': 'image/jpeg; q=1' }).end(JPEG)
    else if (path === '/moved') response.writeHead(302, { location: '/photo' }).end()
    else if (path === '/big.png')
      response.writeHead(200, { 'content-type': 'image/png' }).end(Buffer.alloc(5000))
    else if (path === '/chunked-big.png') {
      // No Content-Length: the limit is found while the body arrives.
      response.writeHead(200, { 'content-type': 'image/png' })
      response.write(Buffer.alloc(600))
      response.end(Buffer.alloc(600))
    } else if (path === '/page.png') response.writeHead(200, { 'content-type': 'text/html' }).end('<html>')
    else response.writeHead(404).end()
  })
  return new Promise((resolve) =>
    server.listen(0, '127.0.0.1', () =>
      resolve({ server, url: `http://127.0.0.1:${(server.address() as AddressInfo).port}`, hits }),
    ),
  )
}

describe('GET /batches/:id/export for trainers', () => {
  let service: TestService
  let images: Awaited<ReturnType<typeof startImageServer>>

  const exportOf = (id: string, query: string) => getAs(service, undefined, `/batches/${id}/export?${query}`)

  beforeAll(async () => {
    images = await startImageServer()
    // Zero-setup mode lets loopback image URLs through, as it does on create.
    service = await startTestService({
      mode: 'zero-setup',
      env: { EXPORT_IMAGE_MAX_BYTES: String(MAX_BYTES) },
    })
  })
  afterAll(async () => {
    await service?.close()
    images?.server.close()
  })

  it('when folder, ext and images are asked for, then every entry is under the folder with images beside their captions and the misses named in batch.jsonl', async () => {
    const batch = await seedBatch(service.deps.sql, {
      prepend: 'ohwx',
      items: [
        { name: 'cat', imageUrl: `${images.url}/cat.png`, caption: 'a cat' },
        { name: 'moved', imageUrl: `${images.url}/moved`, caption: 'a photo' },
        { name: 'missing', imageUrl: `${images.url}/missing.png`, caption: 'gone' },
        { name: 'big', imageUrl: `${images.url}/big.png`, caption: 'too big' },
        { name: 'chunked', imageUrl: `${images.url}/chunked-big.png`, caption: 'too big, no length' },
        { name: 'page', imageUrl: `${images.url}/page.png`, caption: 'not an image' },
        { name: 'waiting', imageUrl: `${images.url}/waiting.png`, status: 'processing' },
      ],
    })
    const reply = await exportOf(batch.id, 'folder=10_ohwx&ext=caption&images=true')
    expect(reply.statusCode).toBe(200)
    const entries = await readZip(reply.rawPayload)
    expect(entries.map((entry) => entry.name)).toEqual([
      '10_ohwx/cat.caption',
      '10_ohwx/cat.png',
      '10_ohwx/moved.caption',
      '10_ohwx/moved.jpg',
      '10_ohwx/missing.caption',
      '10_ohwx/big.caption',
      '10_ohwx/chunked.caption',
      '10_ohwx/page.caption',
      '10_ohwx/batch.jsonl',
    ])
    const byName = new Map(entries.map((entry) => [entry.name, entry]))
    expect(byName.get('10_ohwx/cat.png')?.data.equals(PNG)).toBe(true)
    expect(byName.get('10_ohwx/moved.jpg')?.data.equals(JPEG)).toBe(true)
    expect(byName.get('10_ohwx/cat.caption')?.text).toBe('ohwx, a cat')
    const records = jsonLines(byName.get('10_ohwx/batch.jsonl')?.text as string)
    expect(records.map((record) => [record.name, record.imageError])).toEqual([
      ['cat', undefined],
      ['moved', undefined],
      ['missing', 'http_404'],
      ['big', 'too_large'],
      ['chunked', 'too_large'],
      ['page', 'not_an_image'],
      ['waiting', undefined],
    ])
    // Each image fetched once; an item with no caption yet is not fetched at all.
    expect(Object.fromEntries(images.hits)).toMatchObject({
      '/cat.png': 1,
      '/moved': 1,
      '/photo': 1,
      '/missing.png': 1,
      '/big.png': 1,
      '/chunked-big.png': 1,
      '/page.png': 1,
    })
    expect(images.hits.has('/waiting.png')).toBe(false)
  })

  it('when the service runs in real mode, then an image URL it would refuse on create is not fetched', async () => {
    const batch = await seedBatch(service.deps.sql, {
      items: [{ name: 'local', imageUrl: `${images.url}/cat.png?real`, caption: 'a cat' }],
    })
    const exported = await openBatchExport(
      { ...service.deps, urlPolicy: { mode: 'real', callbackAllowedHosts: [] } },
      {
        batchId: batch.id,
        caller: '',
        format: 'zip',
        options: {
          layout: { folder: undefined, ext: 'txt' },
          captions: 'lines',
          images: true,
          tags: { exclude: [], dedupe: false, underscores: 'keep', max: undefined },
        },
      },
    )
    const entries = await readZip(await buffer(exported.body))
    expect(entries.map((entry) => entry.name)).toEqual(['local.txt', 'batch.jsonl'])
    expect(jsonLines(entries[1]?.text as string)[0]?.imageError).toBe('url_refused')
    expect(images.hits.has('/cat.png?real')).toBe(false)
  })

  it('when tag options are given, then a tag-list style is cleaned after prepend and append and a prose style is left alone', async () => {
    const tags = '1girl, long_hair, Solo, smile, solo, blue_eyes, Long Hair, red_scarf, outdoors'
    const tagList = await seedBatch(service.deps.sql, {
      promptStyle: 'Booru-like tag list',
      prepend: 'ohwx',
      append: 'Solo',
      items: [{ name: 'tagged', caption: tags }],
    })
    const prose = await seedBatch(service.deps.sql, {
      promptStyle: 'Descriptive',
      prepend: 'ohwx',
      items: [{ name: 'prose', caption: 'A girl with long_hair, smiling, smiling' }],
    })
    const query = `tagsExclude=${encodeURIComponent('SMILE, long hair,hair')}&tagsDedupe=true&tagsUnderscores=spaces&tagsMax=5`
    const cleaned = await readZip((await exportOf(tagList.id, query)).rawPayload)
    expect(cleaned[0]?.text).toBe('ohwx, 1girl, Solo, blue eyes, red scarf')
    const jsonl = await exportOf(tagList.id, `format=jsonl&${query}`)
    expect(jsonLines(jsonl.body)[0]?.caption).toBe('ohwx, 1girl, Solo, blue eyes, red scarf')
    const untouched = await readZip((await exportOf(prose.id, query)).rawPayload)
    expect(untouched[0]?.text).toBe('ohwx, A girl with long_hair, smiling, smiling')
    const plain = await readZip((await exportOf(tagList.id, 'format=zip')).rawPayload)
    expect(plain[0]?.text).toBe(`ohwx, ${tags}, Solo`)
  })

  it.each([
    ['ext=png', 'ext'],
    ['folder=ohwx', 'folder'],
    ['folder=0_ohwx', 'folder'],
    ['folder=10_..%2Fup', 'folder'],
    ['images=yes', 'images'],
    ['tagsDedupe=1', 'tagsDedupe'],
    ['tagsUnderscores=dashes', 'tagsUnderscores'],
    ['tagsMax=0', 'tagsMax'],
    ['tagsMax=many', 'tagsMax'],
    ['format=csv&images=true', 'images'],
    ['format=jsonl&folder=10_ohwx', 'folder'],
    ['format=jsonl&ext=caption', 'ext'],
  ])('when the query has %s, then 400 names %s', async (query, field) => {
    const batch = await seedBatch(service.deps.sql, { items: [{ caption: 'x' }] })
    const body = expectValidationError(await exportOf(batch.id, query), field)
    expect(body.code).toBe('validation_failed')
    expect(body.details.map((detail) => detail.field)).toEqual([field])
  })
})

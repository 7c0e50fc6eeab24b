/**
 * Export memory: the service (`node dist/server.js`, real mode) on an embedded PostgreSQL holding
 * batches of completed captions seeded with SQL; every batch's zip and jsonl export is downloaded over
 * HTTP, one after another and then all zips at once, while the service's RSS is sampled every 20 ms.
 * Prints the RSS before, the peak during and the rise of the one-at-a-time pass (the target: under
 * 50 MiB for 10,000 captions) and of the all-at-once pass, and the time and bytes of each export; exits
 * 1 when the target is missed. `measureExportRss` is the measurement alone, for bench/run.ts.
 *
 * Then, on a second service process in zero-setup mode (whose URL policy lets loopback images through),
 * one batch's zip with `images=true`, its images served by a loopback server: the RSS rise while
 * EXPORT_IMAGE_ITEMS images of EXPORT_IMAGE_KIB each go through the archive.
 *
 *   npm run build && npx tsx bench/export-rss.ts
 *     (EXPORT_BATCHES=10 EXPORT_BATCH_ITEMS=1000 EXPORT_ROUNDS=1 EXPORT_IMAGE_ITEMS=200
 *      EXPORT_IMAGE_KIB=256 BENCH_TIME_LIMIT_SECONDS=300)
 */
import { randomBytes } from 'node:crypto'
import { chmod, mkdtemp, rm } from 'node:fs/promises'
import { createServer } from 'node:http'
import type { AddressInfo } from 'node:net'
import { tmpdir } from 'node:os'
import path from 'node:path'
import { performance } from 'node:perf_hooks'
import { setTimeout as sleep } from 'node:timers/promises'
import { pathToFileURL } from 'node:url'
import pg from 'pg'
import { request } from 'undici'
import { startEmbeddedPostgres } from '../src/db/embedded-postgres.js'
import { applyMigrations } from '../src/db/schema-engine.js'
import { freePort } from '../src/lib/net.js'
import { type Child, rssMiB, spawnNode, stopChild, waitReady } from './processes.js'

export const EXPORT_RSS_TARGET_MIB = 50
const SAMPLE_EVERY_MS = 20
const IDLE_SETTLE_MS = 2_000

export interface ExportFigure {
  batchId: string
  format: 'zip' | 'jsonl'
  ms: number
  bytes: number
}

export interface ExportRssResult {
  captions: number
  /** The service's RSS just before the first download. */
  baselineRssMiB: number
  /** The peak while the dataset was exported one export at a time, and how far it is above the baseline. */
  peakRssMiB: number
  riseMiB: number
  /** The peak while every batch's zip was downloaded at once, and how far it is above the baseline. */
  concurrentPeakRssMiB: number
  concurrentRiseMiB: number
  concurrentMs: number
  exports: ExportFigure[]
  samples: number
}

/** Samples a process's RSS every SAMPLE_EVERY_MS; `peak` is the highest seen since `reset`. */
function rssSampler(pid: number | undefined) {
  let peak = rssMiB(pid)
  let samples = 0
  const timer = setInterval(() => {
    const rss = rssMiB(pid)
    samples++
    if (rss > peak) peak = rss
  }, SAMPLE_EVERY_MS)
  return {
    peak: () => Math.max(peak, rssMiB(pid)),
    reset: () => {
      peak = rssMiB(pid)
    },
    stop: () => {
      clearInterval(timer)
      return samples
    },
  }
}

/** Downloads one export, counting its bytes without keeping them. */
async function download(
  serviceUrl: string,
  authorization: string,
  batchId: string,
  format: ExportFigure['format'],
): Promise<ExportFigure> {
  const started = performance.now()
  const response = await request(`${serviceUrl}/batches/${batchId}/export?format=${format}`, {
    headers: { authorization },
  })
  if (response.statusCode !== 200) {
    throw new Error(
      `export ${format} of ${batchId}: HTTP ${response.statusCode} ${await response.body.text()}`,
    )
  }
  let bytes = 0
  for await (const chunk of response.body) bytes += (chunk as Buffer).length
  return { batchId, format, ms: performance.now() - started, bytes }
}

/**
 * Every batch's zip then jsonl, one export at a time, then every zip at once, through HTTP, while the
 * service's RSS (`pid`) is sampled. The baseline is the RSS just before the first request.
 */
export async function measureExportRss(options: {
  serviceUrl: string
  pid: number | undefined
  authorization: string
  batchIds: readonly string[]
  captions: number
}): Promise<ExportRssResult> {
  const { serviceUrl, authorization, batchIds } = options
  const baselineRssMiB = rssMiB(options.pid)
  const sampler = rssSampler(options.pid)
  const exports: ExportFigure[] = []
  try {
    for (const batchId of batchIds) {
      exports.push(await download(serviceUrl, authorization, batchId, 'zip'))
      exports.push(await download(serviceUrl, authorization, batchId, 'jsonl'))
    }
    const peakRssMiB = sampler.peak()
    sampler.reset()
    const started = performance.now()
    await Promise.all(batchIds.map((batchId) => download(serviceUrl, authorization, batchId, 'zip')))
    const concurrentMs = performance.now() - started
    const concurrentPeakRssMiB = sampler.peak()
    return {
      captions: options.captions,
      baselineRssMiB,
      peakRssMiB,
      riseMiB: peakRssMiB - baselineRssMiB,
      concurrentPeakRssMiB,
      concurrentRiseMiB: concurrentPeakRssMiB - baselineRssMiB,
      concurrentMs,
      exports,
      samples: sampler.stop(),
    }
  } finally {
    sampler.stop()
  }
}

const WORDS = (
  'a the of and with in on at near beside under over soft warm cool bright dim golden blue green red ' +
  'woman man child dog cat bird tree river mountain street window table chair light shadow sky cloud ' +
  'portrait photograph painting close-up wide shot background foreground detailed texture wooden stone ' +
  'glass metal fabric smiling looking standing sitting walking holding wearing jacket dress hat ' +
  'sunlight evening morning rain snow city forest field beach indoor outdoor calm vivid muted contrast'
).split(' ')

/** A caption-like text of 300 to 600 characters, the same for the same seed. */
function captionText(seed: number): string {
  let state = seed * 2654435761 + 1
  const next = () => {
    state = (state * 1103515245 + 12345) % 2147483648
    return state
  }
  const length = 300 + (next() % 301)
  let text = ''
  while (text.length < length) {
    const word = WORDS[next() % WORDS.length] as string
    text += text === '' ? word[0]?.toUpperCase() + word.slice(1) : next() % 9 === 0 ? `, ${word}` : ` ${word}`
  }
  return `${text.slice(0, length).trimEnd()}.`
}

/**
 * `batches` batches of `items` completed captions each, for `caller`, as POST /batches and GoAPI would
 * leave them (a trigger word before each, file names `image-00001.txt` …). One statement per batch.
 */
export async function seedExportBatches(
  db: pg.Pool,
  options: { caller: string; batches: number; items: number },
): Promise<string[]> {
  const ids: string[] = []
  for (let batch = 0; batch < options.batches; batch++) {
    const indexes = Array.from({ length: options.items }, (_, index) => index)
    const { rows } = await db.query<{ id: string }>(
      `WITH batch AS (
          INSERT INTO batches (id, caller, total, open_items, prompt_style, caption_length, prepend, append,
            reuse, created_at, updated_at, completed_at)
          VALUES (gen_random_uuid(), $1, $2, 0, 'Descriptive', 'any', 'ohwx', 'bench photo', true, now(),
            now(), now())
          RETURNING id),
        items AS (
          INSERT INTO captions (id, caller, status, image_url, prompt_style, caption_length, caption,
            created_at, updated_at, completed_at, batch_id, item_index, name, file_name, goapi_tasks)
          SELECT gen_random_uuid(), $1, 'completed', 'https://images.example.com/bench/' || batch.id || '/'
              || item.item_index || '.png', 'Descriptive', 'any', item.caption, now(), now(), now(), batch.id,
            item.item_index, NULL, 'image-' || lpad(item.item_index::text, 5, '0') || '.txt', 1
          FROM batch, unnest($3::int[], $4::text[]) AS item(item_index, caption))
        SELECT id FROM batch`,
      [
        options.caller,
        options.items,
        indexes,
        indexes.map((index) => captionText(batch * options.items + index)),
      ],
    )
    ids.push(rows[0]?.id as string)
  }
  return ids
}

const mib = (value: number) => `${value.toFixed(1)} MiB`

export function formatExportRss(result: ExportRssResult): string {
  const lines = [
    `export RSS: ${result.captions} captions in ${result.exports.length / 2} batches, zip then jsonl, one ` +
      `export at a time: baseline ${mib(result.baselineRssMiB)}, peak ${mib(result.peakRssMiB)}, rise ` +
      `${mib(result.riseMiB)} (target < ${EXPORT_RSS_TARGET_MIB} MiB)`,
    `export RSS: every zip at once: peak ${mib(result.concurrentPeakRssMiB)}, rise ` +
      `${mib(result.concurrentRiseMiB)}, in ${result.concurrentMs.toFixed(0)} ms; ${result.samples} samples ` +
      `every ${SAMPLE_EVERY_MS} ms`,
  ]
  for (const format of ['zip', 'jsonl'] as const) {
    const figures = result.exports.filter((figure) => figure.format === format)
    const ms = figures.map((figure) => figure.ms)
    const bytes = figures.map((figure) => figure.bytes)
    lines.push(
      `  ${format.padEnd(5)} ${figures.length} exports: ` +
        `${(ms.reduce((a, b) => a + b, 0) / figures.length).toFixed(0)} ms each on average ` +
        `(min ${Math.min(...ms).toFixed(0)}, max ${Math.max(...ms).toFixed(0)}), ` +
        `${(bytes.reduce((a, b) => a + b, 0) / figures.length / 1024).toFixed(0)} KiB each`,
    )
  }
  lines.push('  batch       format      ms       bytes')
  for (const figure of result.exports) {
    lines.push(
      `  ${figure.batchId.slice(0, 8)}    ${figure.format.padEnd(6)} ${figure.ms.toFixed(0).padStart(7)} ${String(figure.bytes).padStart(11)}`,
    )
  }
  return lines.join('\n')
}

/** A loopback server answering every path with the same image-sized body, as image/png. */
async function startImageServer(bytes: number): Promise<{ url: string; close: () => Promise<void> }> {
  // Random, as a compressed image is: nothing for the zip to shrink.
  const body = randomBytes(bytes)
  const server = createServer((_, response) => {
    response.writeHead(200, { 'content-type': 'image/png', 'content-length': body.length }).end(body)
  })
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve))
  return {
    url: `http://127.0.0.1:${(server.address() as AddressInfo).port}`,
    close: () => new Promise((resolve) => server.close(() => resolve())),
  }
}

/**
 * The images pass: a batch of `items` captions whose images the loopback server serves, exported once as
 * a zip with images=true by a zero-setup service on the same database, its RSS sampled meanwhile.
 */
async function measureImageExport(options: {
  db: pg.Pool
  databaseUrl: string
  items: number
  imageBytes: number
  cleanups: (() => Promise<unknown>)[]
}): Promise<string> {
  const images = await startImageServer(options.imageBytes)
  options.cleanups.push(images.close)
  const [batchId] = await seedExportBatches(options.db, { caller: '', batches: 1, items: options.items })
  await options.db.query(
    `UPDATE captions SET image_url = $2 || '/' || item_index || '.png' WHERE batch_id = $1`,
    [batchId, images.url],
  )
  const serviceUrl = `http://127.0.0.1:${await freePort()}`
  const service = spawnNode(
    'service-images',
    ['dist/server.js'],
    serviceUrl,
    {
      DATABASE_URL: options.databaseUrl,
      SERVICE_MODE: 'zero-setup',
      // Measured for memory, not shed: a loaded machine lags the loop past the default.
      OVERLOAD_EVENT_LOOP_DELAY_MS: '0',
      HOST: '127.0.0.1',
      PORT: new URL(serviceUrl).port,
      LOG_LEVEL: 'warn',
    },
    (child, reason) => {
      console.error(`export-rss: the images service exited early (${reason}):\n${child.output.join('\n')}`)
    },
  )
  options.cleanups.push(() => stopChild(service))
  await waitReady(service, '/readyz')
  await sleep(IDLE_SETTLE_MS)
  const baseline = rssMiB(service.process.pid)
  const sampler = rssSampler(service.process.pid)
  const started = performance.now()
  const response = await request(`${serviceUrl}/batches/${batchId}/export?format=zip&images=true`)
  let bytes = 0
  for await (const chunk of response.body) bytes += (chunk as Buffer).length
  const ms = performance.now() - started
  const peak = sampler.peak()
  sampler.stop()
  if (response.statusCode !== 200 || bytes < options.items * options.imageBytes) {
    throw new Error(`images export: HTTP ${response.statusCode}, ${bytes} bytes`)
  }
  return (
    `export RSS with images=true: ${options.items} images of ${options.imageBytes / 1024} KiB, ` +
    `${(bytes / 1024 / 1024).toFixed(1)} MiB of zip in ${ms.toFixed(0)} ms: baseline ${mib(baseline)}, ` +
    `peak ${mib(peak)}, rise ${mib(peak - baseline)}`
  )
}

async function main(): Promise<void> {
  const setting = (name: string, fallback: number) => Number(process.env[name] || fallback)
  const batches = setting('EXPORT_BATCHES', 10)
  const items = setting('EXPORT_BATCH_ITEMS', 1000)
  const rounds = setting('EXPORT_ROUNDS', 1)
  const limitSeconds = setting('BENCH_TIME_LIMIT_SECONDS', 300)
  const caller = 'bench'
  const token = 'bench-caller-token-0123456789'
  const cleanups: (() => Promise<unknown>)[] = []
  let service: Child | undefined
  const cleanUp = async () => {
    for (const cleanup of cleanups.reverse()) await cleanup().catch(() => {})
    cleanups.length = 0
  }
  const limit = setTimeout(() => {
    console.error(`export-rss: over the ${limitSeconds} s limit, stopping`)
    service?.process.kill('SIGKILL')
    void cleanUp().finally(() => process.exit(1))
  }, limitSeconds * 1000)
  try {
    const root = await mkdtemp(path.join(tmpdir(), 'caption-export-bench-'))
    cleanups.push(() => rm(root, { recursive: true, force: true, maxRetries: 3 }))
    // Under root PostgreSQL runs as the postgres user, which must be able to enter this directory.
    await chmod(root, 0o755)
    const quiet = { info() {}, debug() {}, warn() {} }
    const database = await startEmbeddedPostgres({
      dataDir: path.join(root, 'pg'),
      log: quiet,
      persistent: false,
    })
    cleanups.push(() => database.stop())
    await applyMigrations(database.url)
    const db = new pg.Pool({ connectionString: database.url, max: 2 })
    db.on('error', () => {})
    cleanups.push(() => db.end())
    const seeded = performance.now()
    const batchIds = await seedExportBatches(db, { caller, batches, items })
    await db.query('VACUUM ANALYZE captions')
    console.log(
      `export-rss: seeded ${batches} batches of ${items} completed captions in ${(performance.now() - seeded).toFixed(0)} ms`,
    )

    const serviceUrl = `http://127.0.0.1:${await freePort()}`
    service = spawnNode(
      'service',
      ['dist/server.js'],
      serviceUrl,
      {
        DATABASE_URL: database.url,
        GOAPI_API_KEY: 'bench-goapi-key',
        // Nothing is sent to GoAPI: every seeded caption is completed.
        GOAPI_BASE_URL: `http://127.0.0.1:${await freePort()}`,
        PUBLIC_BASE_URL: serviceUrl,
        WEBHOOK_SECRET: 'bench-webhook-secret-0123456789',
        API_TOKENS: `${caller}:${token}`,
        HOST: '127.0.0.1',
        PORT: new URL(serviceUrl).port,
        LOG_LEVEL: 'warn',
      },
      (child, reason) => {
        console.error(`export-rss: the service exited early (${reason}):\n${child.output.join('\n')}`)
      },
    )
    const started = service
    cleanups.push(() => stopChild(started))
    const readyMs = await waitReady(service, '/readyz')
    await sleep(IDLE_SETTLE_MS)
    console.log(
      `export-rss: service ready in ${readyMs.toFixed(0)} ms, idle RSS ${mib(rssMiB(service.process.pid))}`,
    )
    const baselineRssMiB = rssMiB(service.process.pid)
    const result = await measureExportRss({
      serviceUrl,
      pid: service.process.pid,
      authorization: `Bearer ${token}`,
      batchIds,
      captions: batches * items,
    })
    console.log(formatExportRss(result))
    // Further rounds on the same process: where the peak settles once V8 has sized its heap.
    for (let round = 2; round <= rounds; round++) {
      const again = await measureExportRss({
        serviceUrl,
        pid: service.process.pid,
        authorization: `Bearer ${token}`,
        batchIds,
        captions: batches * items,
      })
      const peak = Math.max(again.peakRssMiB, again.concurrentPeakRssMiB)
      console.log(
        `export RSS, round ${round}: one at a time ${mib(again.peakRssMiB)}, every zip at once ` +
          `${mib(again.concurrentPeakRssMiB)}: ${mib(peak - baselineRssMiB)} above the first round's baseline`,
      )
    }
    console.log(
      await measureImageExport({
        db,
        databaseUrl: database.url,
        items: setting('EXPORT_IMAGE_ITEMS', 200),
        imageBytes: setting('EXPORT_IMAGE_KIB', 256) * 1024,
        cleanups,
      }),
    )
    if (result.riseMiB >= EXPORT_RSS_TARGET_MIB) process.exitCode = 1
  } finally {
    clearTimeout(limit)
    service?.process.removeAllListeners('exit')
    await cleanUp()
  }
}

if (process.argv[1] && import.meta.url === pathToFileURL(process.argv[1]).href) {
  main().catch((error: unknown) => {
    console.error('export-rss: failed', error)
    process.exit(2)
  })
}

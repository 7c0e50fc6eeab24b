import { createReadStream } from 'node:fs'
import { rm } from 'node:fs/promises'
import { type PassThrough, Readable } from 'node:stream'
import { ZipFile } from 'yazl'
import { BatchNotFound } from '../api/error-catalog.js'
import type { CaptionStatus } from '../captions/statuses.js'
import type { ServiceDeps } from '../deps.js'
import { batchStyles } from './batch-resource.js'
import { findCallerBatch } from './batches.repository.js'
import { type CaptionLayout, type ItemEntry, itemEntries } from './caption-layout.js'
import {
  type ArchiveRow,
  completedRowsAfter,
  type ExportRow,
  exportRowsAfter,
  type PageAfter,
} from './export.repository.js'
import {
  createImageFetcher,
  IMAGES_AHEAD,
  type ImageError,
  type ImageFetcher,
  inOrderAhead,
} from './export-images.js'
import { type EntryLayout, entryPath, FLAT_LAYOUT, imageEntry, itemStem } from './export-layout.js'
import { NO_TAG_OPTIONS, type TagOptions, withTagOptions } from './tag-options.js'

/**
 * A batch's exports, streamed: read from PostgreSQL a page at a time and written out as each page
 * arrives, so memory stays flat whatever the batch's size and however slowly the caller reads.
 */

export const EXPORT_FORMATS = ['jsonl', 'csv', 'zip'] as const
export type ExportFormat = (typeof EXPORT_FORMATS)[number]

export const CONTENT_TYPES: Record<ExportFormat, string> = {
  jsonl: 'application/x-ndjson',
  csv: 'text/csv; charset=utf-8',
  zip: 'application/zip',
}

export const CSV_HEADER = ['name', 'imageUrl', 'status', 'caption', 'error'] as const
/** The csv's header for a batch with several prompt styles: one row per caption, its style last. */
export const CSV_HEADER_STYLES = [...CSV_HEADER, 'promptStyle'] as const
/** The zip's entry holding the jsonl export. Items' entries end in a caption or image extension, so none can take it. */
export const ARCHIVE_JSONL = 'batch.jsonl'
export const PAGE_SIZE = 100
/** How far a text export reads ahead of the caller: about a page. */
const TEXT_HIGH_WATER_MARK = 64 * 1024

/** One item of an export: a jsonl line, a csv row. */
export interface ExportRecord {
  /** The item's file name without extension: its zip entry is `<name>.<ext>` once it is completed. */
  name: string
  imageUrl: string
  status: CaptionStatus
  /** The exported text (prepend, caption, append); empty until the item is completed. */
  caption: string
  /** The error code; empty unless the item failed. */
  error: string
  /** Why its image is not in the zip (zip with images=true only); absent otherwise. */
  imageError?: ImageError
  /** With several prompt styles only: the item's captions by style, in the batch's order of styles. */
  captions?: StyleRecord[]
}

/** One caption of an item in the jsonl export of a batch with several prompt styles. */
export interface StyleRecord {
  promptStyle: string
  status: CaptionStatus
  caption: string
  error: string
}

/** What exported text is made of besides the caption: the batch's prepend and append. */
export interface PrependAppend {
  prepend: string
  append: string
}

/** How an export is written besides its format (query options; the defaults give the plain export). */
export interface ExportOptions {
  /** zip only: the caption files' extension and the folder every entry goes under. */
  layout: EntryLayout
  /** zip only: an item's captions one per line in one file, or a file per style. */
  captions: CaptionLayout
  /** zip only: each completed item's image fetched into the archive beside its caption. */
  images: boolean
  /** Applied to the exported text of a tag-list style. */
  tags: TagOptions
}

export const DEFAULT_EXPORT_OPTIONS: ExportOptions = {
  layout: FLAT_LAYOUT,
  captions: 'lines',
  images: false,
  tags: NO_TAG_OPTIONS,
}

export interface BatchExport {
  contentType: string
  /** The download's name: `batch-<id>.<format>`. */
  fileName: string
  body: Readable
}

/** Opens the caller's batch's export; another caller's batch, or none, is BatchNotFound. */
export async function openBatchExport(
  deps: Pick<ServiceDeps, 'sql' | 'urlPolicy' | 'exportImageMaxBytes'>,
  request: { batchId: string; caller: string; format: ExportFormat; options?: ExportOptions },
): Promise<BatchExport> {
  const batch = await findCallerBatch(deps.sql, request.batchId, request.caller)
  if (!batch) throw new BatchNotFound(request.batchId)
  const options = request.options ?? DEFAULT_EXPORT_OPTIONS
  const source: ExportSource = {
    sql: deps.sql,
    batchId: batch.id,
    prependAppend: batch,
    styles: batchStyles(batch),
    tags: options.tags,
    layout: options.layout,
    captions: options.captions,
    imageErrors: new Map(),
  }
  const images =
    request.format === 'zip' && options.images
      ? await createImageFetcher({ urlPolicy: deps.urlPolicy, maxBytes: deps.exportImageMaxBytes })
      : undefined
  const body =
    request.format === 'zip'
      ? zipStream(source, images)
      : textStream(request.format === 'csv' ? csvChunks(source) : jsonlChunks(source))
  return {
    contentType: CONTENT_TYPES[request.format],
    fileName: `batch-${batch.id}.${request.format}`,
    body,
  }
}

interface ExportSource {
  sql: ServiceDeps['sql']
  batchId: string
  prependAppend: PrependAppend
  /** The batch's prompt styles, in order (each caption's own says whether the tag options apply). */
  styles: readonly string[]
  tags: TagOptions
  layout: EntryLayout
  captions: CaptionLayout
  /** Items whose image was left out of the zip, and why: filled before batch.jsonl is written. */
  imageErrors: Map<number, ImageError>
}

/** A caption's exported text: prepend and append around it, then the tag options of its style. */
function exportText(source: ExportSource, caption: { promptStyle: string; caption: string }): string {
  const text = withPrependAppend(source.prependAppend, caption.caption)
  return withTagOptions(caption.promptStyle, text, source.tags)
}

/**
 * The text a trainer reads: the non-empty parts among prepend, caption and append, each trimmed of
 * surrounding whitespace and commas, joined with `, ` (as kohya-style tag files are).
 */
export function withPrependAppend(prependAppend: PrependAppend, caption: string): string {
  return [prependAppend.prepend, caption, prependAppend.append]
    .map(trimPart)
    .filter((part) => part !== '')
    .join(', ')
}

const isTrimmed = (character: string | undefined) => character === ',' || /\s/.test(character ?? '')

/** Whitespace and commas off both ends, by index: a regular expression would backtrack on long runs. */
function trimPart(part: string): string {
  let start = 0
  let end = part.length
  while (start < end && isTrimmed(part[start])) start++
  while (end > start && isTrimmed(part[end - 1])) end--
  return part.slice(start, end)
}

/**
 * One item's record: its caption in the batch's first style (the first it still has); with several
 * styles, its captions by style as well.
 */
export function toExportRecord(captions: readonly ExportRow[], source: ExportSource): ExportRecord {
  const row = captions[0] as ExportRow
  const styled = captions.map((caption) => toStyleRecord(caption, source))
  const first = styled[0] as StyleRecord
  const imageError = source.imageErrors.get(row.itemIndex)
  return {
    name: itemStem(row),
    imageUrl: row.imageUrl,
    status: first.status,
    caption: first.caption,
    error: first.error,
    ...(imageError === undefined ? {} : { imageError }),
    ...(source.styles.length > 1 ? { captions: styled } : {}),
  }
}

function toStyleRecord(row: ExportRow, source: ExportSource): StyleRecord {
  return {
    promptStyle: row.promptStyle,
    status: row.status,
    caption: row.status === 'completed' ? exportText(source, { ...row, caption: row.caption ?? '' }) : '',
    error: row.status === 'failed' ? (row.errorCode ?? '') : '',
  }
}

/** What a spreadsheet reads as the start of a formula (OWASP's CSV injection list). */
const FORMULA_START = /^[=+\-@\t\r]/

/**
 * One CSV field as RFC 4180 writes it: quoted, quotes doubled, when it holds a comma, quote or line
 * break. A field a spreadsheet would run as a formula (`=HYPERLINK(…)`, `+1+1`, `-2`, `@SUM(…)`, or
 * one starting with a tab or carriage return) is neutralized as OWASP describes: a single quote is put
 * in front and the field is quoted, so it opens as text.
 */
export function csvField(value: string): string {
  if (FORMULA_START.test(value)) return `"'${value.replaceAll('"', '""')}"`
  return /[",\r\n]/.test(value) ? `"${value.replaceAll('"', '""')}"` : value
}

const csvRow = (fields: readonly string[]) => `${fields.map(csvField).join(',')}\r\n`

/** Every page of items (each its rows, in the batch's order of styles) `read` returns, until a short page. */
async function* pagesOf<Row extends { itemIndex: number }>(
  source: Pick<ExportSource, 'batchId' | 'styles'>,
  read: (page: PageAfter) => Promise<Row[]>,
): AsyncGenerator<Row[][]> {
  let afterIndex = -1
  for (;;) {
    const items: Row[][] = []
    for (const row of await read({
      batchId: source.batchId,
      styles: source.styles,
      afterIndex,
      limit: PAGE_SIZE,
    })) {
      const item = items.at(-1)
      if (item?.[0]?.itemIndex === row.itemIndex) item.push(row)
      else items.push([row])
    }
    if (items.length > 0) yield items
    const last = items.at(-1)?.[0]
    if (last === undefined || items.length < PAGE_SIZE) return
    afterIndex = last.itemIndex
  }
}

async function* jsonlChunks(source: ExportSource): AsyncGenerator<string> {
  for await (const items of pagesOf(source, (page) => exportRowsAfter(source.sql, page))) {
    let chunk = ''
    for (const item of items) chunk += `${JSON.stringify(toExportRecord(item, source))}\n`
    yield chunk
  }
}

/** One row per item; with several prompt styles, one row per caption, its style in a last column. */
async function* csvChunks(source: ExportSource): AsyncGenerator<string> {
  const severalStyles = source.styles.length > 1
  yield csvRow(severalStyles ? CSV_HEADER_STYLES : CSV_HEADER)
  for await (const items of pagesOf(source, (page) => exportRowsAfter(source.sql, page))) {
    let chunk = ''
    for (const item of items) {
      const record = toExportRecord(item, source)
      const fields = [record.name, record.imageUrl]
      if (!severalStyles) chunk += csvRow([...fields, record.status, record.caption, record.error])
      else
        for (const caption of record.captions ?? [])
          chunk += csvRow([...fields, caption.status, caption.caption, caption.error, caption.promptStyle])
    }
    yield chunk
  }
}

/**
 * Pages as a byte stream that reads the next page only when the caller has taken the last one. When
 * the stream is destroyed (the caller went away), the generator is ended at its next page: no more
 * pages are read.
 */
function textStream(chunks: AsyncGenerator<string>): Readable {
  return Readable.from(chunks, { objectMode: false, highWaterMark: TEXT_HIGH_WATER_MARK })
}

/**
 * The zip: each completed item's caption entries as the caption layout names them (caption-layout.ts;
 * and its image, with `images`), in item order, then
 * `batch.jsonl`, all under the layout's folder; no folder entries. yazl writes one entry at a time;
 * each entry's text is handed over only when yazl reaches it, and the next page is read once yazl has
 * reached the last entry of this one and the caller has taken what was written, so at most a page of
 * text waits in memory. With images, the next image is waited for once yazl has reached this one, so
 * at most IMAGES_AHEAD of them wait on disk. `batch.jsonl` is read in a second pass, after the entries:
 * on a batch still running it may show items completed since their page was read.
 */
function zipStream(source: ExportSource, images: ImageFetcher | undefined): Readable {
  const zip = new ZipFile()
  const output = zip.outputStream as PassThrough
  let added = 0
  let reached = 0
  let jsonl: Readable | undefined
  let wake: (() => void) | undefined
  const nudge = () => {
    wake?.()
    wake = undefined
  }
  output.on('drain', nudge)
  output.on('close', () => {
    jsonl?.destroy()
    nudge()
    void images?.close()
  })
  zip.on('error', (error: Error) => output.destroy(error))

  const caughtUp = () => output.destroyed || (reached === added && !output.writableNeedDrain)
  async function untilCaughtUp(): Promise<void> {
    while (!caughtUp()) {
      await new Promise<void>((resolve) => {
        wake = resolve
      })
    }
  }

  const severalStyles = source.styles.length > 1
  /** An item's caption entries; their text is made when yazl reaches each. */
  const entriesOf = (item: readonly ArchiveRow[]): ItemEntry[] =>
    itemEntries(
      item.map((row) => ({ ...row, text: exportText(source, row) })),
      { layout: source.captions, severalStyles, entries: source.layout },
    )

  function addEntry(entry: ItemEntry): void {
    let pending: ItemEntry | undefined = entry
    added++
    zip.addReadStreamLazy(entry.name, entry.modified ? { mtime: entry.modified } : {}, (done) => {
      const text = (pending as ItemEntry).text
      // yazl keeps this function until the archive ends: the text goes with the stream, not with it.
      pending = undefined
      reached++
      nudge()
      done(null, Readable.from([Buffer.from(text)], { objectMode: false }))
    })
  }

  /** The image's file is read when yazl reaches it, and removed once read. */
  function addImage(row: ArchiveRow, image: { file: string; extension: string }): void {
    added++
    const name = imageEntry(source.layout, itemStem(row), image.extension)
    // Images are compressed already: stored as they are, deflating them again would cost CPU for nothing.
    const entryOptions = { compress: false, ...(row.completedAt ? { mtime: row.completedAt } : {}) }
    zip.addReadStreamLazy(name, entryOptions, (done) => {
      reached++
      nudge()
      if (output.destroyed) return
      const file = createReadStream(image.file)
      file.on('error', (error) => output.destroy(error))
      file.on('close', () => void rm(image.file, { force: true }))
      done(null, file)
    })
  }

  async function addPage(items: ArchiveRow[][], fetcher: ImageFetcher): Promise<void> {
    for await (const [item, image] of inOrderAhead(items, IMAGES_AHEAD, (rows) =>
      fetcher.fetch((rows[0] as ArchiveRow).imageUrl),
    )) {
      const row = item[0] as ArchiveRow
      for (const entry of entriesOf(item)) addEntry(entry)
      if ('file' in image) addImage(row, image)
      else source.imageErrors.set(row.itemIndex, image.error)
      await untilCaughtUp()
      if (output.destroyed) return
    }
  }

  async function fill(): Promise<void> {
    for await (const items of pagesOf(source, (page) => completedRowsAfter(source.sql, page))) {
      if (images) await addPage(items, images)
      else for (const item of items) for (const entry of entriesOf(item)) addEntry(entry)
      await untilCaughtUp()
      if (output.destroyed) return
    }
    zip.addReadStreamLazy(entryPath(source.layout, ARCHIVE_JSONL), (done) => {
      // The download is already over: yazl is left waiting for nothing more.
      if (output.destroyed) return
      jsonl = textStream(jsonlChunks(source))
      // yazl pipes the stream but does not listen for its errors (a page that cannot be read).
      jsonl.on('error', (error) => output.destroy(error))
      done(null, jsonl)
    })
    zip.end()
  }
  fill().catch((error: unknown) => output.destroy(error as Error))
  return output
}

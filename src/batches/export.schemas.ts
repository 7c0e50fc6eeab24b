import { z } from 'zod'
import { InvalidField } from '../api/error-catalog.js'
import { CAPTION_STATUSES } from '../captions/statuses.js'
import { CAPTION_LAYOUTS } from './caption-layout.js'
import { EXPORT_FORMATS, type ExportOptions } from './export.service.js'
import { IMAGE_ERRORS } from './export-images.js'
import { CAPTION_EXTENSIONS, KOHYA_FOLDER } from './export-layout.js'
import { TAG_LIST_STYLES, TAG_UNDERSCORES } from './tag-options.js'

const TRUE_FALSE = ['true', 'false'] as const
const flag = (description: string) =>
  z.enum(TRUE_FALSE, { error: 'must be true or false' }).default('false').meta({ description })
const TAG_LISTS = `tag-list styles only (${TAG_LIST_STYLES.join(', ')}); prose styles ignore it`
export const MAX_EXCLUDED_TAGS_LENGTH = 4000
export const MAX_TAGS = 10_000

export const exportQuery = z.strictObject({
  format: z
    .enum(EXPORT_FORMATS, { error: `must be one of: ${EXPORT_FORMATS.join(', ')}` })
    .default('zip')
    .meta({ description: 'jsonl, csv or zip (the default)' }),
  captions: z
    .enum(CAPTION_LAYOUTS, { error: `must be one of: ${CAPTION_LAYOUTS.join(', ')}` })
    .meta({
      description:
        "zip only: how an item's captions are laid out. `lines` (the default): one `<name>.<ext>` per " +
        "item, one caption per line in the order of the batch's promptStyles (with several styles, " +
        "a caption's own line breaks become spaces). `files`: one `<name>.<style-slug>.<ext>` per caption " +
        '(`descriptive`, `booru-like-tag-list`, …)',
    })
    .optional(),
  ext: z
    .enum(CAPTION_EXTENSIONS, { error: `must be one of: ${CAPTION_EXTENSIONS.join(', ')}` })
    .default(CAPTION_EXTENSIONS[0])
    .meta({ description: "zip only: the caption files' extension, txt (the default) or caption" }),
  folder: z
    .string()
    .regex(KOHYA_FOLDER, {
      error:
        'must be <repeats>_<concept> (1-9999, then a letter or digit and up to 63 letters, digits, spaces, _ or -)',
    })
    .optional()
    .meta({
      description:
        'zip only: a kohya folder `<repeats>_<concept>` (e.g. `10_ohwx`) every entry goes under; pattern `' +
        `${KOHYA_FOLDER.source}\``,
    }),
  images: flag(
    "zip only: true puts each completed item's image in the zip beside its caption, fetched once from its " +
      'URL as `<name>.<png|jpg|webp|…>` after its content type, at most EXPORT_IMAGE_MAX_BYTES; one that ' +
      'cannot be fetched is left out and its reason is `imageError` in batch.jsonl',
  ),
  tagsExclude: z
    .string()
    .max(MAX_EXCLUDED_TAGS_LENGTH, { error: `must be at most ${MAX_EXCLUDED_TAGS_LENGTH} characters` })
    .optional()
    .meta({
      description:
        'Tags to drop, comma-separated, compared whole and case-insensitively, `_` and space alike ' +
        `(\`long_hair\` drops \`Long Hair\`); ${TAG_LISTS}`,
    }),
  tagsDedupe: flag(`true drops later repeats of a tag (compared as tagsExclude compares); ${TAG_LISTS}`),
  tagsUnderscores: z
    .enum(TAG_UNDERSCORES, { error: `must be one of: ${TAG_UNDERSCORES.join(', ')}` })
    .default('keep')
    .meta({
      description: `spaces turns \`long_hair\` into \`long hair\`; keep (the default) leaves it; ${TAG_LISTS}`,
    }),
  tagsMax: z.coerce
    .number({ error: `must be a whole number from 1 to ${MAX_TAGS}` })
    .int({ error: `must be a whole number from 1 to ${MAX_TAGS}` })
    .min(1, { error: `must be a whole number from 1 to ${MAX_TAGS}` })
    .max(MAX_TAGS, { error: `must be a whole number from 1 to ${MAX_TAGS}` })
    .optional()
    .meta({ description: `Keep the first N tags (after the other tag options); ${TAG_LISTS}` }),
})
export type ExportQuery = z.infer<typeof exportQuery>

const ZIP_ONLY = ['captions', 'ext', 'folder', 'images'] as const

/**
 * The export's options from its query. The tag options apply to every format; the layout and images
 * only to a zip, and asking for them with another format is refused by name rather than ignored.
 */
export function exportOptionsOf(query: ExportQuery): ExportOptions {
  if (query.format !== 'zip') {
    const given = {
      captions: query.captions !== undefined,
      ext: query.ext !== CAPTION_EXTENSIONS[0],
      folder: query.folder !== undefined,
      images: query.images === 'true',
    }
    const zipOnly = ZIP_ONLY.find((name) => given[name])
    if (zipOnly !== undefined) throw new InvalidField(zipOnly, 'applies to format=zip only')
  }
  return {
    layout: { folder: query.folder, ext: query.ext },
    captions: query.captions ?? 'lines',
    images: query.images === 'true',
    tags: {
      exclude: (query.tagsExclude ?? '')
        .split(',')
        .map((tag) => tag.trim())
        .filter((tag) => tag !== ''),
      dedupe: query.tagsDedupe === 'true',
      underscores: query.tagsUnderscores,
      max: query.tagsMax,
    },
  }
}

/** One item of the jsonl export (each line) and of the csv export (each row after the header). */
export const exportRecord = z
  .object({
    name: z.string().meta({
      description:
        "The item's file name without extension: sanitized, unique in the batch; its zip entry is <name>.<ext>",
    }),
    imageUrl: z.string(),
    status: z.enum(CAPTION_STATUSES),
    caption: z.string().meta({
      description: 'The exported text: prepend, caption and append joined with ", "; empty until completed',
    }),
    error: z.string().meta({ description: "The caption's error code; empty unless failed" }),
    imageError: z
      .string()
      .optional()
      .meta({
        description:
          "batch.jsonl of a zip with images=true only: why the item's image was left out, one of " +
          `${Object.keys(IMAGE_ERRORS).join(', ')}, or http_<status> (the image server's answer); absent ` +
          'when the image is in the zip or the item is not completed',
      }),
    captions: z
      .array(
        z.object({
          promptStyle: z.string(),
          status: z.enum(CAPTION_STATUSES),
          caption: z.string(),
          error: z.string(),
        }),
      )
      .meta({
        description:
          "Only for a batch with several promptStyles: the item's captions by style, in that order " +
          "(the fields above are its first style's)",
      })
      .optional(),
  })
  .meta({ id: 'ExportRecord' })

export const exportResponse = {
  description:
    'The export, streamed as it is read, with `Content-Disposition: attachment; filename="batch-<id>.<format>"`',
  content: {
    'application/x-ndjson': {
      schema: exportRecord.meta({ description: 'jsonl: one ExportRecord per line, in item order' }),
    },
    'text/csv': {
      schema: z.string().meta({
        description:
          'csv: the header `name,imageUrl,status,caption,error`, then one row per item in item order ' +
          '(RFC 4180: CRLF line ends, a field with a comma, quote or line break quoted, quotes doubled). ' +
          'With several promptStyles the header ends in `,promptStyle` and each item has one row per ' +
          'style, in that order',
      }),
    },
    'application/zip': {
      schema: z.string().meta({
        format: 'binary',
        description:
          'zip: the exported text of each completed item as `captions=` lays it out (`<name>.<ext>`, ' +
          'one caption per line; or `<name>.<style-slug>.<ext>` per style), `<name>.<image extension>` with ' +
          'images=true, and `batch.jsonl`; all under `folder` when given, no folder entries',
      }),
    },
  },
}

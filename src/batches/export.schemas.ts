import { z } from 'zod'
import { CAPTION_STATUSES } from '../captions/statuses.js'
import { CAPTION_LAYOUTS } from './caption-layout.js'
import { EXPORT_FORMATS } from './export.service.js'

export const exportQuery = z.strictObject({
  format: z
    .enum(EXPORT_FORMATS, { error: `must be one of: ${EXPORT_FORMATS.join(', ')}` })
    .default('zip')
    .meta({ description: 'jsonl, csv or zip (the default)' }),
  captions: z
    .enum(CAPTION_LAYOUTS, { error: `must be one of: ${CAPTION_LAYOUTS.join(', ')}` })
    .meta({
      description:
        "zip only: how an item's captions are laid out. `lines` (the default): one `<name>.txt` per " +
        "item, one caption per line in the order of the batch's promptStyles (with several styles, " +
        "a caption's own line breaks become spaces). `files`: one `<name>.<style-slug>.txt` per caption " +
        '(`descriptive`, `booru-like-tag-list`, …)',
    })
    .optional(),
})

/** One item of the jsonl export (each line) and of the csv export (each row after the header). */
export const exportRecord = z
  .object({
    name: z.string().meta({
      description:
        "The item's file name without `.txt`: sanitized, unique in the batch; its zip entry is <name>.txt",
    }),
    imageUrl: z.string(),
    status: z.enum(CAPTION_STATUSES),
    caption: z.string().meta({
      description: 'The exported text: prepend, caption and append joined with ", "; empty until completed',
    }),
    error: z.string().meta({ description: "The caption's error code; empty unless failed" }),
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
          'zip: the exported text of each completed item as `captions=` lays it out (`<name>.txt`, ' +
          'one caption per line; or `<name>.<style-slug>.txt` per style), and `batch.jsonl`; no folders',
      }),
    },
  },
}

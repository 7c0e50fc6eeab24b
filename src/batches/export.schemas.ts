import { z } from 'zod'
import { CAPTION_STATUSES } from '../captions/statuses.js'
import { EXPORT_FORMATS } from './export.service.js'

export const exportQuery = z.strictObject({
  format: z
    .enum(EXPORT_FORMATS, { error: `must be one of: ${EXPORT_FORMATS.join(', ')}` })
    .default('zip')
    .meta({ description: 'jsonl, csv or zip (the default)' }),
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
          '(RFC 4180: CRLF line ends, a field with a comma, quote or line break quoted, quotes doubled)',
      }),
    },
    'application/zip': {
      schema: z.string().meta({
        format: 'binary',
        description:
          'zip: `<name>.txt` holding the exported text for each completed item, and `batch.jsonl`; ' +
          'no folders',
      }),
    },
  },
}

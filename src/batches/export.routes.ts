import type { CallerRoutes } from '../api/caller-api.js'
import { errorResponses, READ_ONE_ERRORS } from '../api/error-responses.js'
import { perCallerRateLimit } from '../api/rate-limit.js'
import { batchParams } from './batches.schemas.js'
import { exportOptionsOf, exportQuery, exportResponse } from './export.schemas.js'
import { openBatchExport } from './export.service.js'

/** A batch's captions as files for trainers and tools. Needs a caller token (when configured). */
export const exportRoutes: CallerRoutes = async (app, options) => {
  const { deps } = options

  app.get(
    '/batches/:id/export',
    {
      config: { rateLimit: perCallerRateLimit(options.readsPerMinute, 'reads') },
      schema: {
        summary: "Download a batch's captions: zip of .txt files, jsonl or csv",
        operationId: 'exportBatch',
        tags: ['batches'],
        description:
          'Streamed, at any time: items not finished yet are exported as they stand. `format` is ' +
          'optional and defaults to `zip`. The exported text of an item joins the non-empty parts ' +
          "among the batch's `prepend`, the caption and `append`, each trimmed of surrounding " +
          'whitespace and commas, with `, ` (kohya-style tag files); the stored captions stay as GoAPI ' +
          'wrote them.\n\n' +
          '- `zip`: one `<name>.txt` per item with a completed caption (others are absent), and ' +
          "`batch.jsonl` (the jsonl export), with no folder entries. Names are the items' `fileName`s: " +
          'sanitized, unique in the batch (later repeats get `-2`, `-3` …). A batch with several ' +
          '`promptStyles` writes one completed caption per line in that order (`captions=lines`, the ' +
          'default), or one `<name>.<style-slug>.txt` per caption (`captions=files`). For trainers: ' +
          '`ext=caption` names them `<name>.caption`, `folder=10_ohwx` puts every entry under that kohya ' +
          "folder, and `images=true` adds each completed item's image beside its captions (fetched by this " +
          'service under the URL policy of `POST /captions`; one that cannot be fetched is left out and ' +
          'named in batch.jsonl as `imageError`). `captions`, `ext`, `folder` and `images` are refused with ' +
          'another format.\n' +
          '- `jsonl` and `csv`: one record `{ name, imageUrl, status, caption, error }` per item in item ' +
          'order, whatever its status; `caption` is empty until completed, `error` (the error code) ' +
          "empty unless failed. With several `promptStyles`, those fields are the first style's and " +
          'a jsonl record adds `captions` (`{ promptStyle, status, caption, error }` per style), while ' +
          'csv has one row per caption with a last column `promptStyle`.\n\n' +
          'For the tag-list styles, `tagsExclude`, `tagsDedupe`, `tagsUnderscores` and `tagsMax` clean ' +
          'the exported text (prepend and append included) in every format, in that order; prose styles ' +
          'ignore them.',
        params: batchParams,
        querystring: exportQuery,
        response: {
          200: exportResponse,
          ...errorResponses(...READ_ONE_ERRORS),
        },
      },
    },
    async (request, reply) => {
      const exported = await openBatchExport(deps, {
        batchId: request.params.id,
        caller: request.caller,
        format: request.query.format,
        options: exportOptionsOf(request.query),
      })
      return (
        reply
          .type(exported.contentType)
          .header('content-disposition', `attachment; filename="${exported.fileName}"`)
          // The response schema describes the streamed bytes for the document; a stream is sent as it is.
          .send(exported.body as never)
      )
    },
  )
}

import { z } from 'zod'
import type { CallerRoutes } from '../api/caller-api.js'
import { BatchNotFound } from '../api/error-catalog.js'
import {
  acceptedHeaders,
  CANCEL_BATCH_ERRORS,
  CREATE_ERRORS,
  errorResponses,
  LIST_ERRORS,
  READ_ONE_ERRORS,
  RETRY_ERRORS,
} from '../api/error-responses.js'
import { perCallerRateLimit } from '../api/rate-limit.js'
import { idempotencyKeyOf, refuseBody } from '../api/request-checks.js'
import { idempotencyKeyHeaders } from '../api/schemas.js'
import { cancelBatch } from './batch-cancel.js'
import { quoteBatch } from './batch-dry-run.js'
import { listBatchCaptionPage } from './batch-items.js'
import { retryBatch } from './batch-retry.js'
import {
  batchCaptionList,
  batchCaptionsQuery,
  batchDryRun,
  batchInputOf,
  batchList,
  batchParams,
  batchResource,
  batchRetryResult,
  createBatchBody,
  listBatchesQuery,
  MAX_BATCH_ITEMS,
} from './batches.schemas.js'
import { createBatch, getBatch, listBatchPage, refusedBatchBody } from './batches.service.js'
import { eraseBatch } from './erase.repository.js'

export const BATCH_BODY_LIMIT_BYTES = 4 * 1024 * 1024

/** Datasets: many images captioned together. Every route needs a caller token (when configured). */
export const batchesRoutes: CallerRoutes = async (app, options) => {
  const { deps } = options

  app.post(
    '/batches',
    {
      config: { rateLimit: perCallerRateLimit(options.rateLimitPerMinute) },
      // 1,000 items of URLs up to 2,048 characters and names up to 1,000 do not fit the usual 1 MiB.
      bodyLimit: BATCH_BODY_LIMIT_BYTES,
      // A refused body is answered by the handler, which names the URLs the rules refuse as well.
      attachValidation: true,
      schema: {
        summary: 'Caption a dataset',
        operationId: 'createBatch',
        tags: ['batches'],
        description:
          `Records 1 to ${MAX_BATCH_ITEMS} images as one batch and answers at once: background work ` +
          'sends them to GoAPI as task slots free up (GOAPI_MAX_CONCURRENCY), each flowing like a caption ' +
          'posted alone. Items are checked all or nothing: one bad item refuses the batch, naming every ' +
          'bad item by its index. With reuse (the default) an image already captioned is not paid again. ' +
          'Idempotency-Key works as for POST /captions. With `dryRun: true` the same checks, reuse ' +
          'lookup and budget arithmetic answer 200 with what the batch would cost and whether it fits ' +
          'the budget, and nothing is written, held or sent.',
        headers: idempotencyKeyHeaders,
        body: createBatchBody,
        response: {
          200: batchDryRun.meta({
            description: 'A dry run (`dryRun: true`): the quote; nothing was accepted',
          }),
          202: batchResource.meta({
            description: 'Accepted: the batch, to read again at Location while it runs',
            headers: acceptedHeaders('The batch: /batches/{id}'),
          }),
          ...errorResponses(...CREATE_ERRORS),
        },
      },
    },
    async (request, reply) => {
      if (request.validationError) throw refusedBatchBody(deps, request.validationError, request.body)
      const { dryRun, ...body } = request.body
      const input = batchInputOf(body)
      if (dryRun === true) {
        const quote = await quoteBatch(deps, {
          input,
          caller: request.caller,
          idempotencyKey: idempotencyKeyOf(request),
        })
        return reply.code(200).send(quote)
      }
      const result = await createBatch(
        { ...deps, log: request.log },
        {
          input,
          caller: request.caller,
          idempotencyKey: idempotencyKeyOf(request),
          traceParent: request.headers.traceparent,
        },
      )
      if (result.replayed) reply.header('idempotent-replayed', 'true')
      return reply.code(202).header('location', `/batches/${result.body.id}`).send(result.body)
    },
  )

  app.get(
    '/batches/:id',
    {
      config: { rateLimit: perCallerRateLimit(options.readsPerMinute, 'reads') },
      schema: {
        summary: 'Read one batch: its progress, reuse and cost',
        operationId: 'getBatch',
        tags: ['batches'],
        params: batchParams,
        response: {
          200: batchResource.meta({ description: 'The batch' }),
          ...errorResponses(...READ_ONE_ERRORS),
        },
      },
    },
    async (request) => getBatch(deps, request.params.id, request.caller),
  )

  app.post(
    '/batches/:id/cancel',
    {
      config: { rateLimit: perCallerRateLimit(options.rateLimitPerMinute) },
      schema: {
        summary: "Cancel the batch's items GoAPI has not been sent yet",
        operationId: 'cancelBatch',
        tags: ['batches'],
        description:
          'Every item still `queued` and not yet sent to GoAPI becomes `canceled` (`counts.canceled`), its ' +
          'budget hold given back. Items GoAPI has accepted finish and are paid: GoAPI cannot cancel a task. ' +
          'The batch completes once they are final; its `batch.completed` event counts the canceled items, ' +
          'and exports leave them out. Canceling again changes nothing.',
        params: batchParams,
        response: {
          200: batchResource.meta({ description: 'The batch, its waiting items canceled' }),
          ...errorResponses(...CANCEL_BATCH_ERRORS),
        },
      },
    },
    async (request) => {
      refuseBody(request.body)
      return cancelBatch(deps, request.params.id, request.caller)
    },
  )

  app.get(
    '/batches',
    {
      config: { rateLimit: perCallerRateLimit(options.readsPerMinute, 'reads') },
      schema: {
        summary: 'List batches, newest first',
        operationId: 'listBatches',
        tags: ['batches'],
        querystring: listBatchesQuery,
        response: {
          200: batchList,
          ...errorResponses(...LIST_ERRORS),
        },
      },
    },
    async (request) => listBatchPage(deps, request.query, request.caller),
  )

  app.get(
    '/batches/:id/captions',
    {
      config: { rateLimit: perCallerRateLimit(options.readsPerMinute, 'reads') },
      schema: {
        summary: "A batch's captions, in item order",
        operationId: 'listBatchCaptions',
        tags: ['batches'],
        params: batchParams,
        querystring: batchCaptionsQuery,
        response: {
          200: batchCaptionList,
          ...errorResponses(...READ_ONE_ERRORS, 'invalid_cursor'),
        },
      },
    },
    async (request) =>
      listBatchCaptionPage(deps, { batchId: request.params.id, ...request.query }, request.caller),
  )

  app.delete(
    '/batches/:id',
    {
      config: { rateLimit: perCallerRateLimit(options.rateLimitPerMinute) },
      schema: {
        summary: 'Erase a batch and all its items',
        operationId: 'deleteBatch',
        tags: ['batches'],
        description:
          'Erases the batch and every item of it as DELETE /captions/{id} erases one caption, its callback ' +
          'event and deliveries with it. Items GoAPI still works on finish at GoAPI and are paid; items ' +
          'GoAPI never had give their budget holds back. What was spent stays counted in GET /usage.',
        params: batchParams,
        response: {
          204: z.null().meta({ description: 'Erased' }),
          ...errorResponses(...READ_ONE_ERRORS),
        },
      },
    },
    async (request, reply) => {
      if (!(await eraseBatch(deps.sql, request.params.id, request.caller)))
        throw new BatchNotFound(request.params.id)
      return reply.code(204).send(null)
    },
  )

  app.post(
    '/batches/:id/retry',
    {
      config: { rateLimit: perCallerRateLimit(options.rateLimitPerMinute) },
      schema: {
        summary: 'Retry every failed item of a batch',
        operationId: 'retryBatch',
        tags: ['batches'],
        description:
          'Every failed item goes back to queued under its id for a new GoAPI task, as POST ' +
          '/captions/{id}/retry does one; all or nothing against the budget (402 and nothing changed when ' +
          'they do not fit). The batch runs again until they end, and its next batch.completed is a new event.',
        params: batchParams,
        response: {
          202: batchRetryResult.meta({
            description: 'How many failed items were queued again (0: none had failed)',
          }),
          ...errorResponses(...RETRY_ERRORS.filter((code) => code !== 'caption_not_failed')),
        },
      },
    },
    async (request, reply) => {
      refuseBody(request.body)
      return reply.code(202).send(await retryBatch(deps, request.params.id, request.caller))
    },
  )
}

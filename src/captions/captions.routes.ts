import type { FastifyPluginAsyncZod } from 'fastify-type-provider-zod'
import type { ServiceDeps } from '../deps.js'
import {
  captionList,
  captionParams,
  captionResource,
  createCaptionBody,
  errorResponse,
  listCaptionsQuery,
} from './captions.schemas.js'
import { createCaption, getCaption, listCaptionPage, toCaptionResource } from './captions.service.js'

export const captionsRoutes: FastifyPluginAsyncZod<{ deps: ServiceDeps }> = async (app, { deps }) => {
  app.post(
    '/captions',
    {
      schema: {
        summary: 'Caption an image',
        body: createCaptionBody,
        response: {
          202: captionResource,
          400: errorResponse,
          409: errorResponse,
          413: errorResponse,
          415: errorResponse,
          422: errorResponse,
        },
      },
    },
    async (request, reply) => {
      const key = request.headers['idempotency-key']
      const result = await createCaption(
        { ...deps, log: request.log },
        request.body,
        Array.isArray(key) ? key.join(', ') : key,
      )
      if (result.replayed) reply.header('idempotent-replayed', 'true')
      return reply.code(result.statusCode).header('location', `/captions/${result.body.id}`).send(result.body)
    },
  )

  app.get(
    '/captions/:id',
    {
      schema: {
        summary: 'Read one caption',
        params: captionParams,
        response: { 200: captionResource, 400: errorResponse, 404: errorResponse },
      },
    },
    async (request) => toCaptionResource(await getCaption(deps, request.params.id)),
  )

  app.get(
    '/captions',
    {
      schema: {
        summary: 'List captions, newest first',
        querystring: listCaptionsQuery,
        response: { 200: captionList, 400: errorResponse },
      },
    },
    async (request) => {
      const page = await listCaptionPage(deps, request.query)
      return { items: page.items.map(toCaptionResource), nextCursor: page.nextCursor }
    },
  )
}

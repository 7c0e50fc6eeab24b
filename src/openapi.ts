import { readFileSync } from 'node:fs'
import swagger from '@fastify/swagger'
import swaggerUi from '@fastify/swagger-ui'
import type { FastifyInstance } from 'fastify'
import fp from 'fastify-plugin'
import { jsonSchemaTransform, jsonSchemaTransformObject } from 'fastify-type-provider-zod'
import type { OpenAPIV3_1 } from 'openapi-types'
import { batchWebhooks } from './batches/batch-deliveries.schemas.js'
import { captionWebhooks } from './captions/captions.schemas.js'

/** Where the interactive reference is served; its assets come from the package, not from a CDN. */
export const DOCS_PREFIX = '/docs'

const DESCRIPTION = `Turns image URLs into captions with GoAPI's Joycaption model: \`POST /captions\`, then read
\`GET /captions/{id}\` until it is \`completed\` or \`failed\` (or get it at a \`callbackUrl\`).

Callers send \`Authorization: Bearer <token>\` on every route unless a route says otherwise. Every error has
one shape (\`Error\`) with a stable \`code\`; a path no route has answers 404 \`route_not_found\`, and a method
the path does not take answers 405 \`method_not_allowed\` with \`Allow\`. Every answer carries \`X-Request-Id\`.`

/** The package's version and licence, from package.json (next to src/ and dist/ alike). */
const PACKAGE = JSON.parse(readFileSync(new URL('../package.json', import.meta.url), 'utf8')) as {
  version: string
  license: string
}

const REQUEST_ID_HEADER: OpenAPIV3_1.ReferenceObject = { $ref: '#/components/headers/RequestId' }

/**
 * The OpenAPI 3.1 document, built from every route's zod schemas as routes are added (routes added
 * later are picked up by themselves), at `GET /openapi.json`, and the interactive reference at
 * `GET /docs`. Schemas with an id (`.meta({ id })`) become `components.schemas` and are referenced.
 * Routes are secured by a caller token unless they say otherwise (`security: []`).
 */
export const openApiPlugin = fp(
  async (app: FastifyInstance) => {
    await app.register(swagger, {
      openapi: {
        openapi: '3.1.0',
        info: {
          title: 'caption-service',
          version: PACKAGE.version,
          description: DESCRIPTION,
          license: { name: PACKAGE.license },
        },
        // Relative: the host that serves this document (in-cluster, the Service's address).
        servers: [{ url: '/', description: 'The caption-service that serves this document' }],
        components: {
          headers: {
            RequestId: {
              description:
                "The request's id (the caller's X-Request-Id when sane), on every log line about it",
              schema: { type: 'string' },
            },
          },
          securitySchemes: {
            callerToken: {
              type: 'http',
              scheme: 'bearer',
              description: "The caller's token from API_TOKENS (not checked in the zero-setup mode)",
            },
            goapiWebhookSecret: {
              type: 'apiKey',
              in: 'header',
              name: 'x-webhook-secret',
              description: "The caption's own webhook secret, which GoAPI echoes on each delivery",
            },
          },
        },
        security: [{ callerToken: [] }],
        // What this service sends to a caption's callbackUrl.
        webhooks: withOperationIds({ ...captionWebhooks, ...batchWebhooks }),
        tags: [
          { name: 'captions', description: "Callers' API: create, read and list captions" },
          { name: 'batches', description: 'Datasets: many images captioned together, exported for trainers' },
          { name: 'usage', description: "What a caller's captions cost, and its daily budget" },
          { name: 'webhooks', description: 'What GoAPI calls as a task moves' },
          { name: 'health', description: 'Kubernetes probes' },
        ],
      },
      transform: jsonSchemaTransform,
      transformObject: (documentObject) =>
        withoutUnusedSchemas(withRequestIdHeaders(jsonSchemaTransformObject(documentObject))),
    })
    await app.register(swaggerUi, {
      routePrefix: DOCS_PREFIX,
      uiConfig: { deepLinking: true, docExpansion: 'list', tryItOutEnabled: false },
    })
    app.get('/openapi.json', { schema: { hide: true } }, async () => app.swagger())
  },
  { name: 'openapi' },
)

/** Each callback's operationId is its name in `webhooks` (captionFinished, batchCompleted). */
function withOperationIds<T extends Record<string, { post: object }>>(webhooks: T): T {
  return Object.fromEntries(
    Object.entries(webhooks).map(([name, item]) => [
      name,
      { ...item, post: { operationId: name, ...item.post } },
    ]),
  ) as T
}

/** Every answer carries X-Request-Id (see app.ts): said once here rather than on every route. */
function withRequestIdHeaders<T>(document: T): T {
  const paths = (document as OpenAPIV3_1.Document).paths ?? {}
  for (const item of Object.values(paths)) {
    for (const operation of Object.values(item ?? {})) {
      const responses = (operation as OpenAPIV3_1.OperationObject).responses ?? {}
      for (const response of Object.values(responses) as OpenAPIV3_1.ResponseObject[]) {
        response.headers = { 'x-request-id': REQUEST_ID_HEADER, ...response.headers }
      }
    }
  }
  return document
}

const SCHEMA_REF = /"#\/components\/schemas\/([^"]+)"/g

/**
 * Drops the components no route refers to, directly or through another component: every id'd schema
 * gets an input and an output variant, and most are used one way only.
 */
function withoutUnusedSchemas<T>(document: T): T {
  const { paths, webhooks, components } = document as OpenAPIV3_1.Document
  const schemas = components?.schemas ?? {}
  const used = new Set<string>()
  let pending = [JSON.stringify(paths ?? {}), JSON.stringify(webhooks ?? {})]
  while (pending.length > 0) {
    const found = pending.flatMap((text) => [...text.matchAll(SCHEMA_REF)].map((match) => match[1] as string))
    const fresh = [...new Set(found)].filter((name) => !used.has(name))
    for (const name of fresh) used.add(name)
    pending = fresh.map((name) => JSON.stringify(schemas[name] ?? {}))
  }
  for (const name of Object.keys(schemas)) if (!used.has(name)) delete schemas[name]
  return document
}

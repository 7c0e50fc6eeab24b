/**
 * Regenerates the caller types (`schema.ts`) from the OpenAPI document the code serves at
 * /openapi.json: `npm run client:generate`. The document is built from the app itself, with no database
 * behind it (building the routes touches none), so the types follow the route schemas exactly.
 */
import { writeFile } from 'node:fs/promises'
import { fileURLToPath } from 'node:url'
import openapiTS, { astToString } from 'openapi-typescript'
import pino from 'pino'
import { buildApp } from '../../src/app.js'
import { loadConfig } from '../../src/config.js'
import { openDatabase } from '../../src/db/pool.js'
import { createGoapiClient } from '../../src/goapi/client.js'
import { createServiceDeps } from '../../src/service-deps.js'

export const SCHEMA_FILE = fileURLToPath(new URL('./schema.ts', import.meta.url))

const HEADER = `/**
 * caption-service's API as TypeScript types, generated from GET /openapi.json by openapi-typescript.
 * Do not edit: run \`npm run client:generate\` after changing a route's schemas.
 */

`

/** The document GET /openapi.json answers with, from an app that is built but never connected. */
export async function currentOpenApiDocument(): Promise<Record<string, unknown>> {
  const config = loadConfig({
    SERVICE_MODE: 'zero-setup',
    DATABASE_URL: 'postgresql://unused@127.0.0.1:1/unused',
  })
  const database = openDatabase(config.databaseUrl as string)
  const goapi = createGoapiClient({ baseUrl: config.goapi.baseUrl, apiKey: 'unused' })
  const deps = createServiceDeps(config, {
    sql: database.sql,
    goapi,
    log: pino({ level: 'silent' }),
  })
  const app = await buildApp(config, deps)
  try {
    const response = await app.inject({ method: 'GET', url: '/openapi.json' })
    if (response.statusCode !== 200) throw new Error(`GET /openapi.json answered ${response.statusCode}`)
    return response.json()
  } finally {
    await app.close()
    await goapi.close()
    await database.close()
  }
}

/** The types openapi-typescript makes of a document, as `schema.ts` holds them. */
export async function typesOf(document: Record<string, unknown>): Promise<string> {
  const ast = await openapiTS(document as unknown as Parameters<typeof openapiTS>[0])
  return HEADER + astToString(ast)
}

if (process.argv[1] === fileURLToPath(import.meta.url)) {
  await writeFile(SCHEMA_FILE, await typesOf(await currentOpenApiDocument()))
  console.log(`wrote ${SCHEMA_FILE}`)
}

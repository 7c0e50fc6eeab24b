import { chmod, mkdtemp, rm } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import path from 'node:path'
import pg from 'pg'
import type { TestProject } from 'vitest/node'
import { startEmbeddedPostgres } from '../../src/db/embedded-postgres.js'
import { applyMigrations } from '../../src/db/schema-engine.js'

export const TEMPLATE_DATABASE = 'caption_template'

declare module 'vitest' {
  export interface ProvidedContext {
    postgresUrl: string
  }
}

/**
 * Starts one real PostgreSQL server for the whole run and migrates a template database once; test
 * files clone it (`CREATE DATABASE … TEMPLATE`), which takes milliseconds.
 */
export default async function setup(project: TestProject) {
  const quiet = { info() {}, debug() {}, warn: (obj: object, msg: string) => console.warn(msg, obj) }
  const root = await mkdtemp(path.join(tmpdir(), 'caption-test-'))
  // Under root the server runs as the postgres user, which must be able to enter this directory.
  await chmod(root, 0o755)
  const server = await startEmbeddedPostgres({
    dataDir: path.join(root, 'pg'),
    log: quiet,
    persistent: false,
  })
  const admin = new pg.Client({ connectionString: server.url })
  await admin.connect()
  await admin.query(`CREATE DATABASE ${TEMPLATE_DATABASE}`)
  await admin.end()
  const templateUrl = new URL(server.url)
  templateUrl.pathname = `/${TEMPLATE_DATABASE}`
  await applyMigrations(templateUrl.toString())
  project.provide('postgresUrl', server.url)
  return async () => {
    await server.stop()
    await rm(root, { recursive: true, force: true })
  }
}

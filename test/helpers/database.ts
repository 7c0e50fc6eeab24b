import { randomBytes } from 'node:crypto'
import pg from 'pg'
import { inject } from 'vitest'

const TEMPLATE_DATABASE = 'caption_template'

interface TestDatabase {
  url: string
  drop: () => Promise<void>
}

/** A fresh, migrated database on the run's PostgreSQL server; dropped by the returned function. */
export function createTestDatabase(): Promise<TestDatabase> {
  return createDatabase('test', TEMPLATE_DATABASE)
}

/** A database with none of the service's tables, as a real one is before `npm run db:migrate`. */
export function createEmptyDatabase(): Promise<TestDatabase> {
  return createDatabase('empty')
}

async function createDatabase(prefix: string, template?: string): Promise<TestDatabase> {
  const serverUrl = inject('postgresUrl')
  const name = `${prefix}_${randomBytes(6).toString('hex')}`
  await withServer(serverUrl, (client) =>
    client.query(`CREATE DATABASE ${name}${template ? ` TEMPLATE ${template}` : ''}`),
  )
  const url = new URL(serverUrl)
  url.pathname = `/${name}`
  return { url: url.toString(), drop: () => withServer(serverUrl, (client) => dropDatabase(client, name)) }
}

async function withServer<T>(serverUrl: string, use: (client: pg.Client) => Promise<T>): Promise<T> {
  const client = new pg.Client({ connectionString: serverUrl })
  await client.connect()
  try {
    return await use(client)
  } finally {
    await client.end()
  }
}

const SESSIONS_CLOSE_WITHIN_MS = 2_000

/**
 * Drops a test's database once its sessions have closed. `pool.end()` resolves as soon as it has asked
 * each connection to close, not once it has: a forced drop at that instant cuts a connection still
 * closing, whose client then reports the cut as an error of the pool's (unhandled in a test). So the
 * drop waits for the sessions to go, then forces out whatever a test left open.
 */
async function dropDatabase(client: pg.Client, name: string): Promise<void> {
  const deadline = Date.now() + SESSIONS_CLOSE_WITHIN_MS
  for (;;) {
    const { rows } = await client.query<{ sessions: number }>(
      'SELECT count(*)::int AS sessions FROM pg_stat_activity WHERE datname = $1',
      [name],
    )
    if ((rows[0]?.sessions ?? 0) === 0 || Date.now() >= deadline) break
    await new Promise((resolve) => setTimeout(resolve, 10))
  }
  await client.query(`DROP DATABASE IF EXISTS ${name} WITH (FORCE)`)
}

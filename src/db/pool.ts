import pg from 'pg'
import { untraced } from '../tracing/untraced.js'

export type Sql = pg.Pool
/** What a statement runs on: the pool, or one connection holding a transaction. */
export type Queryable = Pick<pg.Pool | pg.PoolClient, 'query'>

/**
 * The service's one connection pool. Every statement it sends at run time is plain SQL on it: Prisma
 * owns the schema and its migrations, but its client would cost the process a query compiler (tens of
 * MiB) to send statements as simple as these.
 */
export interface Database {
  sql: Sql
  /**
   * Opens a few connections ahead of the first requests: a new connection costs a process on the server
   * and a password exchange, tens of milliseconds that would otherwise land on the first callers.
   */
  warm(connections?: number): Promise<void>
  close(): Promise<void>
}

export const poolSettings = (databaseUrl: string): pg.PoolConfig => ({
  connectionString: databaseUrl,
  max: 10,
  // A database that does not answer fails the request quickly instead of queueing it forever.
  connectionTimeoutMillis: 5_000,
  idleTimeoutMillis: 30_000,
})

export function openDatabase(databaseUrl: string): Database {
  const sql = new pg.Pool(poolSettings(databaseUrl))
  // An idle client that loses its server (a restart) must not crash the process; the next query reconnects.
  sql.on('error', () => {})
  return {
    sql,
    async warm(connections = 4) {
      // Best effort: a database that is down now is the readiness probe's to report, not a reason to stop.
      const opened = await Promise.allSettled(Array.from({ length: connections }, () => sql.connect()))
      for (const result of opened) if (result.status === 'fulfilled') result.value.release()
    },
    async close() {
      if (!sql.ended) await sql.end()
    },
  }
}

/** Runs `work` in one transaction on one connection: committed if it returns, rolled back if it throws. */
export async function inTransaction<T>(sql: Sql, work: (client: pg.PoolClient) => Promise<T>): Promise<T> {
  const client = await sql.connect()
  try {
    // Only the transaction's statements are spans when tracing: its BEGIN and COMMIT say nothing.
    await untraced(() => client.query('BEGIN'))
    const result = await work(client)
    await untraced(() => client.query('COMMIT'))
    return result
  } catch (error) {
    await client.query('ROLLBACK').catch(() => {})
    throw error
  } finally {
    client.release()
  }
}

/**
 * A connection of its own on the pool's database, outside the pool: for what holds a connection for
 * the life of the process (LISTEN), which must never take one of the pool's from requests.
 */
export function dedicatedClient(sql: Sql, applicationName: string): pg.Client {
  return new pg.Client({
    connectionString: sql.options.connectionString,
    keepAlive: true,
    // Named, so that an operator sees it apart from the pool's in pg_stat_activity.
    application_name: applicationName,
  })
}

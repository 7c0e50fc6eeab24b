import { PrismaPg } from '@prisma/adapter-pg'
import pg from 'pg'
import { PrismaClient } from '../generated/prisma/client.js'

export type Db = PrismaClient
export type Sql = pg.Pool

/**
 * One connection pool, shared by Prisma (through its pg driver adapter) and by the few hot statements
 * the repositories send as plain SQL, where the ORM's cost per query would dominate the request.
 */
export interface Database {
  db: Db
  sql: Sql
  /**
   * Opens a few connections ahead of the first requests: a new connection costs a process on the server
   * and a password exchange, tens of milliseconds that would otherwise land on the first callers.
   */
  warm(connections?: number): Promise<void>
  close(): Promise<void>
}

const poolSettings = (databaseUrl: string): pg.PoolConfig => ({
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
  const db = new PrismaClient({ adapter: new PrismaPg(sql) })
  return {
    db,
    sql,
    async warm(connections = 4) {
      // Best effort: a database that is down now is the readiness probe's to report, not a reason to stop.
      const opened = await Promise.allSettled(Array.from({ length: connections }, () => sql.connect()))
      for (const result of opened) if (result.status === 'fulfilled') result.value.release()
    },
    async close() {
      await db.$disconnect()
      if (!sql.ended) await sql.end()
    },
  }
}

/** A Prisma client with a pool of its own, for tools and tests that need nothing else. */
export function createPrismaClient(databaseUrl: string): Db {
  return new PrismaClient({ adapter: new PrismaPg(poolSettings(databaseUrl)) })
}

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

import { PrismaPg } from '@prisma/adapter-pg'
import { PrismaClient } from '../generated/prisma/client.js'

export type Db = PrismaClient

export function createPrismaClient(databaseUrl: string): Db {
  const adapter = new PrismaPg({
    connectionString: databaseUrl,
    max: 10,
    // A database that does not answer fails the request quickly instead of queueing it forever.
    connectionTimeoutMillis: 5_000,
    idleTimeoutMillis: 30_000,
  })
  return new PrismaClient({ adapter })
}

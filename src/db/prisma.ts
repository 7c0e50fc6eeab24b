import { PrismaPg } from '@prisma/adapter-pg'
import { PrismaClient } from '../generated/prisma/client.js'
import { poolSettings } from './pool.js'

export type Db = PrismaClient

/**
 * A Prisma client with a pool of its own, for tools and tests. The service itself sends plain SQL
 * (see `pool.ts`): the schema, its migrations and the row types stay Prisma's.
 */
export function createPrismaClient(databaseUrl: string): Db {
  return new PrismaClient({ adapter: new PrismaPg(poolSettings(databaseUrl)) })
}

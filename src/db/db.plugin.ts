import type { FastifyInstance } from 'fastify'
import fp from 'fastify-plugin'
import { createPrismaClient, type Db } from './prisma.js'

declare module 'fastify' {
  interface FastifyInstance {
    db: Db
  }
}

/** One Prisma client per app, connected through the pg driver adapter and closed with the app. */
export const dbPlugin = fp(
  async (app: FastifyInstance, options: { databaseUrl: string }) => {
    const db = createPrismaClient(options.databaseUrl)
    app.decorate('db', db)
    app.addHook('onClose', async () => {
      await db.$disconnect()
    })
  },
  { name: 'db' },
)

import type { FastifyInstance } from 'fastify'
import fp from 'fastify-plugin'
import { createPrismaClient, type Db } from './prisma.js'

declare module 'fastify' {
  interface FastifyInstance {
    db: Db
  }
}

/**
 * The app's Prisma client (pg driver adapter). Made here and closed with the app, unless the caller
 * passes one it owns: the process entry does, so background work can finish after HTTP has closed.
 */
export const dbPlugin = fp(
  async (app: FastifyInstance, options: { databaseUrl: string; db?: Db | undefined }) => {
    const db = options.db ?? createPrismaClient(options.databaseUrl)
    app.decorate('db', db)
    if (!options.db) {
      app.addHook('onClose', async () => {
        await db.$disconnect()
      })
    }
  },
  { name: 'db' },
)

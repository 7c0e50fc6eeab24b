import type { FastifyInstance } from 'fastify'

export interface ServedRoute {
  url: string
  methods: string[]
}

/**
 * Every route the app serves, read from Fastify's own route tree (`printRoutes`), so a route added
 * anywhere is seen without a list to keep. Each line of the tree is a path segment under the line
 * above it at one level less, with the methods in parentheses when a route ends there.
 */
export function servedRoutes(app: FastifyInstance): ServedRoute[] {
  const routes: ServedRoute[] = []
  const prefixes: string[] = []
  for (const line of app.printRoutes({ commonPrefix: false }).split('\n')) {
    const match = /^([│ ]*)[├└]── (.+?)(?: \(([^)]*)\))?$/.exec(line)
    if (!match) continue
    const depth = (match[1] as string).length / 4
    const url = (prefixes[depth - 1] ?? '') + (match[2] as string)
    prefixes[depth] = url
    prefixes.length = depth + 1
    if (match[3]) routes.push({ url, methods: match[3].split(', ') })
  }
  return routes
}

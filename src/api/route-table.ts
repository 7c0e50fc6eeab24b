import type { FastifyInstance } from 'fastify'

/**
 * Every route's method and path pattern, gathered as routes are added, to tell "no such path" (404)
 * from "no such method on this path" (405): Fastify's router answers only "no route".
 */
export function routeTable(app: FastifyInstance) {
  const routes: { methods: string[]; segments: string[] }[] = []
  app.addHook('onRoute', (route) => {
    const methods = [route.method].flat().map((method) => method.toUpperCase())
    // Fastify answers HEAD wherever it answers GET.
    if (methods.includes('GET')) methods.push('HEAD')
    routes.push({ methods, segments: route.url.split('/') })
  })
  return {
    methodsFor(path: string): string[] {
      const segments = path.split('/')
      const methods = new Set<string>()
      for (const route of routes) {
        if (matches(route.segments, segments)) for (const method of route.methods) methods.add(method)
      }
      return [...methods].sort()
    },
  }
}

/** Whether a path matches a route pattern: `:name` takes one segment, a trailing `*` the rest. */
function matches(pattern: string[], path: string[]): boolean {
  for (const [index, part] of pattern.entries()) {
    if (part === '*' && index === pattern.length - 1) return true
    const segment = path[index]
    if (segment === undefined) return false
    if (part.startsWith(':')) continue
    if (part !== segment && part !== safeDecode(segment)) return false
  }
  return pattern.length === path.length
}

function safeDecode(segment: string): string | undefined {
  try {
    return decodeURIComponent(segment)
  } catch {
    return undefined
  }
}

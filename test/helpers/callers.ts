import { randomUUID } from 'node:crypto'
import type { TestService } from './service.js'

/** Callers and their bearer tokens (each at least 16 characters, as API_TOKENS requires). */
export const CALLERS = {
  alice: 'alice-token-7Qp2rW9xKd4mZ1vB',
  bob: 'bob-token-Hs83LpQe0Zt6YcNu',
  carol: 'carol-token-Vb5nJ2wQ8rTy3KxE',
  dave: 'dave-token-Mf7aR1sL9cWq4PzG',
} as const

export type CallerName = keyof typeof CALLERS

/** API_TOKENS for the given callers (all of them by default). */
export function apiTokens(names: readonly CallerName[] = Object.keys(CALLERS) as CallerName[]): string {
  return names.map((name) => `${name}:${CALLERS[name]}`).join(',')
}

/** The env that turns caller authentication on in startTestService. */
export function authEnv(names?: readonly CallerName[]): Record<string, string> {
  return { AUTH_DISABLED: 'false', API_TOKENS: apiTokens(names) }
}

export function bearer(name: CallerName): { authorization: string } {
  return { authorization: `Bearer ${CALLERS[name]}` }
}

export function uniqueImageUrl(tag = 'callers'): string {
  return `https://images.example.com/${tag}/${randomUUID()}.png`
}

export interface CaptionReply {
  id: string
  status: string
  imageUrl: string
  goapiTaskId: string | null
}

/** POST /captions as `caller` (anonymous when undefined). */
export function postAs(
  service: TestService,
  caller: CallerName | undefined,
  payload: Record<string, unknown> = { imageUrl: uniqueImageUrl() },
  headers: Record<string, string> = {},
) {
  return service.app.inject({
    method: 'POST',
    url: '/captions',
    headers: { ...(caller ? bearer(caller) : {}), ...headers },
    payload,
  })
}

/** GET `url` as `caller` (anonymous when undefined). */
export function getAs(service: TestService, caller: CallerName | undefined, url: string) {
  return service.app.inject({ method: 'GET', url, headers: caller ? bearer(caller) : {} })
}

/** What a refused request may have written: captions, idempotency keys and GoAPI tasks. */
export async function writeCounts(service: TestService) {
  return {
    captions: await service.db.caption.count(),
    keys: await service.db.idempotencyKey.count(),
    tasks: service.simulator.tasks.size,
    creates: service.simulator.counters.createRequests,
  }
}

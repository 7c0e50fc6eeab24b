import { STATUS_CODES } from 'node:http'
import type { FastifyInstance, FastifyReply } from 'fastify'
import { z } from 'zod'
import { type Chance, type SimulatorFaults, simulatorFaultsSchema } from './faults.js'
import {
  type CreateBody,
  createBodySchema,
  type SimulatedGoapiTask,
  type SimulatedOutcome,
  type TaskRecord,
} from './tasks.js'

/** What the HTTP API has answered, counted as it answers. */
export interface ApiCounters {
  createRequests: number
  /** Creates answered with `createFailureStatus`. */
  createFaults: number
  createHangs: number
  getRequests: number
  unauthorized: number
  badRequests: number
}

/** What the routes act on; the simulator owns all of it. */
export interface SimulatorRoutesOptions {
  /** The only `x-api-key` accepted; anything else gets 401. */
  apiKey: string
  faults: SimulatorFaults
  counters: ApiCounters
  tasks: ReadonlyMap<string, TaskRecord>
  chance: Chance
  /** Resolves true after `ms`, or false as soon as the simulator closes. */
  wait: (ms: number) => Promise<boolean>
  startTask(body: CreateBody): TaskRecord
  finishTask(taskId: string, outcome: SimulatedOutcome): SimulatedGoapiTask
  forgetTask(taskId: string): boolean
  /** What `GET /_sim/tasks` answers. */
  summary(): object
}

/**
 * GoAPI's task API (`POST /api/v1/task`, `GET /api/v1/task/:id`) and the simulator's control plane
 * (`/_sim/...`), all behind `x-api-key`, every error in GoAPI's `{ code, message }` body.
 */
export function registerSimulatorRoutes(app: FastifyInstance, options: SimulatorRoutesOptions): void {
  const { apiKey, faults, counters, tasks, chance, wait } = options

  app.setErrorHandler((error: { statusCode?: number; message?: string }, _request, reply) => {
    const status = error.statusCode !== undefined && error.statusCode >= 400 ? error.statusCode : 500
    if (status === 400) counters.badRequests += 1
    return reply
      .code(status)
      .send(goapiError(status, status < 500 ? (error.message ?? '') : 'internal error'))
  })
  app.setNotFoundHandler((request, reply) =>
    reply.code(404).send(goapiError(404, `no route for ${request.method} ${request.url.split('?')[0]}`)),
  )

  void app.register(async (api) => {
    api.addHook('onRequest', async (request, reply) => {
      if (request.headers['x-api-key'] === apiKey) return
      counters.unauthorized += 1
      return reply.code(401).send(goapiError(401, 'invalid or missing x-api-key'))
    })

    api.post('/api/v1/task', async (request, reply) => {
      counters.createRequests += 1
      if (faults.createLatencyMs > 0 && !(await wait(faults.createLatencyMs))) {
        return reply.code(503).send(goapiError(503, 'the simulator is shutting down'))
      }
      if (chance(faults.createFailureRate)) {
        counters.createFaults += 1
        return sendCreateFault(reply, faults.createFailureStatus)
      }
      const body = createBodySchema.safeParse(request.body)
      if (!body.success) {
        counters.badRequests += 1
        return reply.code(400).send(goapiError(400, describeIssues(body.error)))
      }
      const record = options.startTask(body.data)
      if (chance(faults.createHangRate)) {
        record.createAnswered = false
        counters.createHangs += 1
        // Hijacked: the socket stays open with no answer until the caller gives up or close() runs.
        reply.hijack()
        return reply
      }
      return envelope(structuredClone(record.task))
    })

    api.get<{ Params: { id: string } }>('/api/v1/task/:id', async (request, reply) => {
      counters.getRequests += 1
      const record = tasks.get(request.params.id)
      if (!record) return reply.code(404).send(goapiError(404, 'task not found'))
      record.getRequests += 1
      return envelope(record.task)
    })

    api.get('/_sim/tasks', async () => options.summary())
    api.get('/_sim/faults', async () => faults)
    api.patch('/_sim/faults', async (request, reply) => {
      const patch = simulatorFaultsSchema.partial().safeParse(request.body)
      if (!patch.success) return reply.code(400).send(goapiError(400, describeIssues(patch.error)))
      return Object.assign(faults, patch.data)
    })
    api.post<{ Params: { id: string } }>('/_sim/tasks/:id/finish', async (request, reply) => {
      const outcome = z
        .object({ outcome: z.enum(['completed', 'failed']).default('completed') })
        .safeParse(request.body ?? {})
      if (!outcome.success) return reply.code(400).send(goapiError(400, describeIssues(outcome.error)))
      if (!tasks.has(request.params.id)) return reply.code(404).send(goapiError(404, 'task not found'))
      return envelope(options.finishTask(request.params.id, outcome.data.outcome))
    })
    api.delete<{ Params: { id: string } }>('/_sim/tasks/:id', async (request, reply) => {
      if (!options.forgetTask(request.params.id)) {
        return reply.code(404).send(goapiError(404, 'task not found'))
      }
      return reply.code(204).send()
    })
  })
}

function sendCreateFault(reply: FastifyReply, status: number) {
  if (status === 429) reply.header('retry-after', '1')
  return reply.code(status).send(goapiError(status, `simulated fault: ${STATUS_CODES[status] ?? 'error'}`))
}

function envelope(task: SimulatedGoapiTask) {
  return { code: 200, data: task, message: 'success' }
}

function goapiError(code: number, message: string) {
  return { code, message }
}

function describeIssues(error: z.ZodError): string {
  const issues = error.issues.map((issue) =>
    issue.path.length === 0 ? issue.message : `${issue.path.join('.')} ${issue.message}`,
  )
  return `invalid request: ${issues.join('; ')}`
}

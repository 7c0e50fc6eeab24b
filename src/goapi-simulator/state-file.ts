import { readFileSync } from 'node:fs'
import { mkdir, rename, writeFile } from 'node:fs/promises'
import path from 'node:path'
import { z } from 'zod'
import type { SimulatedGoapiTask } from './tasks.js'

/**
 * The simulator's tasks on disk, so a restart (the zero-setup mode's) does not forget tasks the service
 * holds the ids of: GoAPI itself keeps its tasks when its processes restart.
 */

/** Finished tasks older than this are dropped when the file is read: GoAPI also purges old tasks. */
export const FINISHED_TASK_RETENTION_MS = 24 * 60 * 60 * 1000

const count = z.number().int().min(0)

const simulatedTaskSchema = z.object({
  task_id: z.string().min(1),
  model: z.string(),
  task_type: z.string(),
  status: z.enum(['pending', 'processing', 'completed', 'failed']),
  config: z.object({
    service_mode: z.string(),
    webhook_config: z.object({ endpoint: z.string(), secret: z.string() }),
  }),
  input: z.object({ image: z.string(), prompt_style: z.string(), caption_length: z.string() }),
  output: z.object({ text: z.string() }).nullable(),
  meta: z.object({
    created_at: z.string(),
    started_at: z.string(),
    ended_at: z.string(),
    usage: z.object({ type: z.literal('llm'), frozen: z.number(), consume: z.number() }),
    is_using_private_pool: z.boolean(),
    failover_triggered: z.boolean().optional(),
  }),
  detail: z.null(),
  logs: z.array(z.unknown()).nullable(),
  error: z.object({ code: z.number(), raw_message: z.string(), message: z.string(), detail: z.null() }),
}) satisfies z.ZodType<SimulatedGoapiTask>

const storedTaskSchema = z.object({
  task: simulatedTaskSchema,
  fate: z.enum(['complete', 'fail', 'never-finish']),
  createAnswered: z.boolean(),
  getRequests: count,
  webhookAttempts: count,
  webhookDeliveries: count,
  webhooksDropped: count,
  /** A webhook was on its way when the simulator stopped: the task's state is sent again at start. */
  webhookInterrupted: z.boolean().default(false),
})
export type StoredTask = z.infer<typeof storedTaskSchema>

const stateSchema = z.object({ version: z.literal(1), tasks: z.array(storedTaskSchema) })

/** The tasks kept in `file` (none if it does not exist yet); throws, naming the file, if it is unreadable. */
export function readSimulatorState(file: string, now: Date): StoredTask[] {
  let text: string
  try {
    text = readFileSync(file, 'utf8')
  } catch (error) {
    if ((error as { code?: unknown }).code === 'ENOENT') return []
    throw error
  }
  let json: unknown
  try {
    json = JSON.parse(text)
  } catch (error) {
    throw unreadable(file, (error as Error).message)
  }
  const state = stateSchema.safeParse(json)
  if (!state.success) throw unreadable(file, z.prettifyError(state.error))
  const oldest = now.getTime() - FINISHED_TASK_RETENTION_MS
  return state.data.tasks.filter(
    ({ task }) =>
      (task.status !== 'completed' && task.status !== 'failed') || Date.parse(task.meta.ended_at) >= oldest,
  )
}

function unreadable(file: string, reason: string): Error {
  return new Error(
    `the GoAPI simulator cannot read its state file ${file} (${reason}); move it away to start with no tasks`,
  )
}

export interface StateSaver {
  /** A task changed: write soon, once for every change made meanwhile. */
  changed(): void
  /** Stops the pending write and writes the state as it is now; resolves once it is on disk. */
  close(): Promise<void>
}

/**
 * Writes at most once per `delayMs` however many tasks change, one write at a time, each to a temporary
 * file renamed over the old one, so a reader or a crash never meets a half-written file.
 */
export function createStateSaver(options: {
  file: string
  delayMs: number
  tasks: () => StoredTask[]
  onWritten: () => void
  onError: (error: unknown) => void
}): StateSaver {
  const { file } = options
  const temporary = `${file}.${process.pid}.tmp`
  let timer: NodeJS.Timeout | undefined
  let writing: Promise<void> = Promise.resolve()
  let closed = false

  function write(): Promise<void> {
    writing = writing.then(async () => {
      const text = JSON.stringify({ version: 1, tasks: options.tasks() })
      try {
        await mkdir(path.dirname(file), { recursive: true })
        // The tasks carry their webhook secrets.
        await writeFile(temporary, text, { mode: 0o600 })
        await rename(temporary, file)
        options.onWritten()
      } catch (error) {
        options.onError(error)
      }
    })
    return writing
  }

  return {
    changed() {
      if (closed || timer !== undefined) return
      timer = setTimeout(() => {
        timer = undefined
        void write()
      }, options.delayMs)
      timer.unref()
    },
    close() {
      closed = true
      clearTimeout(timer)
      timer = undefined
      return write()
    },
  }
}

import { randomUUID } from 'node:crypto'
import type { Queryable } from '../../src/db/pool.js'

export interface SeededCaption {
  caller: string
  createdAt: Date
  status?: 'queued' | 'pending' | 'processing' | 'completed' | 'failed'
  goapiTasks?: number
  reservedCents?: number
  reusedFrom?: string | null
}

/** Writes a caption row as the service would have left it, without going through GoAPI; returns its id. */
export async function seedCaption(db: Queryable, caption: SeededCaption): Promise<string> {
  const id = randomUUID()
  const status = caption.status ?? 'completed'
  const finished = status === 'completed' || status === 'failed'
  await db.query(
    `INSERT INTO captions (id, caller, status, image_url, prompt_style, caption_length, caption,
        error_code, error_message, created_at, updated_at, completed_at, goapi_tasks, reserved_cents,
        reused_from)
      VALUES ($1, $2, $3, $4, 'Descriptive', 'any', $5, $6, $7, $8, $8, $9, $10, $11, $12)`,
    [
      id,
      caption.caller,
      status,
      `https://images.example.com/seeded/${id}.png`,
      status === 'completed' ? 'A seeded caption.' : null,
      status === 'failed' ? 'goapi_task_failed' : null,
      status === 'failed' ? 'the seeded task failed' : null,
      caption.createdAt,
      finished ? caption.createdAt : null,
      caption.goapiTasks ?? 0,
      caption.reservedCents ?? 0,
      caption.reusedFrom ?? null,
    ],
  )
  return id
}

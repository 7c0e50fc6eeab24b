import type { FastifyBaseLogger } from 'fastify'
import type { Sql } from '../db/pool.js'
import type { CallbackEventType } from './callbacks.schemas.js'

/**
 * A kind of thing a callback tells of (a caption, a batch), as its feature registers it: where it keeps
 * its callback columns and which column of callback_events names it. Constants given by the feature,
 * so that no table or column name in a statement ever comes from input.
 */
export interface CallbackSubjectKind {
  /** Names it in log lines (`<name>Id`) and keeps its prepared statements apart. */
  name: string
  /** The table holding its callback_url, callback_state, callback_attempts, callback_next_at, lease_*. */
  table: string
  /** The column of callback_events that holds its id. */
  eventColumn: string
  /** SQL predicate over `table`: finished, so that it has an event to tell. */
  finished: string
  /** Prepended to its statements' names ('' for captions, whose names came first). */
  prefix: string
  /** The header that names it to the caller too, for its logs (the signature does not cover it). */
  idHeader: string
  /** What a claim of due callbacks returns of each row (`RETURNING …`). */
  columns: string
}

/** One subject, by kind and id. */
export interface SubjectRef {
  kind: CallbackSubjectKind
  id: string
}

/** What a callback tells of, as the delivery flow needs it. */
export interface CallbackSubject extends SubjectRef {
  callbackUrl: string | null
  callbackState: string
  callbackAttempts: number
  callbackNextAt: Date | null
  /** Finished (a batch: completed), so that it has an event to tell. */
  finished: boolean
  /** The logger for lines about it, naming it. */
  log: FastifyBaseLogger
  /** Its event's type and data, as GET shows it now. */
  describe(): Promise<{ type: CallbackEventType; data: unknown }>
  /** The traceparent its delivery continues, when it keeps one (src/tracing). */
  traceParent?: string | null
}

/**
 * What a feature registers so that its rows can have callbacks: its kind, how to read one row by id
 * (`load`), and how a row (read, or returned by the claim of due callbacks) becomes a subject.
 */
export interface CallbackSubjectAdapter<Row extends { id: string }> {
  kind: CallbackSubjectKind
  load(sql: Sql, id: string): Promise<Row | null>
  toSubject(deps: { sql: Sql; log: FastifyBaseLogger }, row: Row): CallbackSubject
}

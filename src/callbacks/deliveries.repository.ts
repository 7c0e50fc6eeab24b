import type { Sql } from '../db/pool.js'
import type { CallbackEventType } from './callbacks.schemas.js'
import type { CallbackSubjectKind, SubjectRef } from './subjects.js'

/**
 * Callback events and their delivery attempts, in plain SQL. An event tells of one subject: a caption,
 * or a batch once all its items have finished. Background work changes a subject's callback columns
 * only while it holds the subject's row lease (see work/work.repository.ts), so one attempt at most is
 * in flight per event; every write below is fenced on that lease.
 */

/** `refused`: not sent, since CALLBACK_ALLOWED_HOSTS no longer allows the URL; it ends the delivery. */
export type DeliveryOutcome = 'delivered' | 'failed' | 'gone' | 'refused'
/** What the subject's `callback.state` becomes once an attempt has its outcome. */
export type CallbackStateAfter = 'pending' | 'delivered' | 'failed' | 'gone'

export interface CallbackEventRow {
  id: string
  /** The caption's or batch's id. */
  subjectId: string
  type: CallbackEventType
  body: string
  createdAt: Date
  resendRequestedAt: Date | null
}

export interface DeliveryRow {
  id: string
  eventId: string
  eventType: CallbackEventType
  attempt: number
  attemptedAt: Date
  url: string
  statusCode: number | null
  error: string | null
  durationMs: number | null
  /** Listed attempts have ended: one in flight has no outcome yet and is not listed. */
  outcome: DeliveryOutcome
}

/** Each kind's statements, made once from the constants its feature registered. */
const STATEMENTS = new Map<CallbackSubjectKind, ReturnType<typeof statementsFor>>()

function statementsOf(kind: CallbackSubjectKind) {
  let statements = STATEMENTS.get(kind)
  if (!statements) {
    statements = statementsFor(kind)
    STATEMENTS.set(kind, statements)
  }
  return statements
}

function statementsFor(kind: CallbackSubjectKind) {
  const { table, eventColumn, finished, prefix } = kind
  const eventColumns = `id, ${eventColumn} AS "subjectId", type, body, created_at AS "createdAt",
  resend_requested_at AS "resendRequestedAt"`
  return {
    findEvent: {
      name: `${prefix}find-callback-event`,
      text: `SELECT ${eventColumns} FROM callback_events WHERE ${eventColumn} = $1 AND retired_at IS NULL`,
    },
    insertEvent: {
      name: `${prefix}insert-callback-event`,
      text: `INSERT INTO callback_events (id, ${eventColumn}, type, body, created_at) VALUES ($1, $2, $3, $4, $5)
      ON CONFLICT (${eventColumn}) WHERE retired_at IS NULL DO NOTHING RETURNING ${eventColumns}`,
    },
    startAttempt: {
      name: `${prefix}start-callback-delivery`,
      text: `WITH counted AS (
        UPDATE ${table} SET callback_attempts = $3, callback_next_at = $6
        WHERE id = $7 AND lease_owner = $8 AND callback_state = 'pending' AND callback_attempts = $3 - 1
        RETURNING id),
      answered AS (
        UPDATE callback_events SET resend_requested_at = NULL
        WHERE id = $2 AND EXISTS (SELECT 1 FROM counted))
      INSERT INTO callback_deliveries (id, event_id, attempt, attempted_at, url)
      SELECT $1, $2, $3, $4, $5 FROM counted`,
    },
    startFirstAttempt: {
      name: `${prefix}start-first-callback-delivery`,
      text: `WITH leased AS (
        SELECT id FROM ${table}
        WHERE id = $7 AND lease_owner = $8 AND callback_state = 'pending' AND callback_attempts = 0),
      made AS (
        INSERT INTO callback_events (id, ${eventColumn}, type, body, created_at)
        SELECT $2, id, $9, $10, $11 FROM leased
        ON CONFLICT (${eventColumn}) WHERE retired_at IS NULL DO NOTHING RETURNING id),
      counted AS (
        UPDATE ${table} SET callback_attempts = 1, callback_next_at = $6
        WHERE id = $7 AND lease_owner = $8 AND callback_state = 'pending' AND callback_attempts = 0
          AND EXISTS (SELECT 1 FROM made)
        RETURNING id),
      attempted AS (
        INSERT INTO callback_deliveries (id, event_id, attempt, attempted_at, url)
        SELECT $1, $2, $3, $4, $5 FROM counted RETURNING id)
      SELECT (SELECT count(*) FROM leased)::int AS leased, (SELECT count(*) FROM made)::int AS made,
        (SELECT count(*) FROM attempted)::int AS counted`,
    },
    finishAttempt: {
      name: `${prefix}finish-callback-delivery`,
      text: `WITH recorded AS (
        UPDATE callback_deliveries SET outcome = $2::delivery_outcome, status_code = $3, error = $4,
          duration_ms = $5
        WHERE id = $1 AND outcome IS NULL)
      UPDATE ${table} SET
        callback_state = CASE WHEN callback_next_at = $8 THEN $6::callback_state ELSE 'pending' END,
        -- Due only while pending: the callback claim walks due rows in order and never past ended ones.
        callback_next_at = CASE WHEN callback_next_at = $8 AND $6::callback_state <> 'pending' THEN NULL
          ELSE callback_next_at END,
        lease_owner = NULL, lease_expires_at = NULL
      WHERE id = $7 AND lease_owner = $9`,
    },
    release: {
      name: `${prefix}release-callback`,
      text: `UPDATE ${table} SET
        callback_state = CASE WHEN $3::callback_state IS NOT NULL AND callback_next_at IS NOT DISTINCT FROM $4
          THEN $3::callback_state ELSE callback_state END,
        callback_next_at = CASE WHEN $3::callback_state IS NOT NULL AND $3::callback_state <> 'pending'
          AND callback_next_at IS NOT DISTINCT FROM $4 THEN NULL ELSE callback_next_at END,
        lease_owner = NULL, lease_expires_at = NULL
      WHERE id = $1 AND lease_owner = $2`,
    },
    requestResend: {
      name: `${prefix}request-callback-resend`,
      text: `WITH asked AS (
        UPDATE ${table} SET callback_state = 'pending', callback_next_at = $3
        WHERE id = $1 AND caller = $2 AND callback_url IS NOT NULL AND ${finished}
        RETURNING id),
      marked AS (
        UPDATE callback_events SET resend_requested_at = $3
        WHERE ${eventColumn} = $1 AND retired_at IS NULL AND EXISTS (SELECT 1 FROM asked))
      SELECT count(*)::int AS asked FROM asked`,
    },
    listDeliveries: {
      name: `${prefix}list-callback-deliveries`,
      text: `SELECT d.id, d.event_id AS "eventId", e.type AS "eventType", d.attempt,
        d.attempted_at AS "attemptedAt", d.url, d.status_code AS "statusCode", d.error,
        d.duration_ms AS "durationMs", d.outcome
      FROM callback_events e JOIN callback_deliveries d ON d.event_id = e.id
      WHERE e.${eventColumn} = $1 AND d.outcome IS NOT NULL
      ORDER BY e.created_at, d.attempt`,
    },
  }
}

export async function findCallbackEvent(sql: Sql, subject: SubjectRef): Promise<CallbackEventRow | null> {
  const { rows } = await sql.query<CallbackEventRow>({
    ...statementsOf(subject.kind).findEvent,
    values: [subject.id],
  })
  return rows[0] ?? null
}

/** Records a subject's event; should one exist already, that one stands and is returned. */
export async function insertCallbackEvent(
  sql: Sql,
  kind: CallbackSubjectKind,
  event: Omit<CallbackEventRow, 'resendRequestedAt'>,
): Promise<CallbackEventRow> {
  const { rows } = await sql.query<CallbackEventRow>({
    ...statementsOf(kind).insertEvent,
    values: [event.id, event.subjectId, event.type, event.body, event.createdAt],
  })
  return rows[0] ?? ((await findCallbackEvent(sql, { kind, id: event.subjectId })) as CallbackEventRow)
}

/**
 * Attempts still without an outcome although this replica holds the lease: their replica was killed
 * or lost its lease mid-request. They get an outcome now, so each is counted once and shown.
 */
export async function closeAbandonedAttempts(sql: Sql, eventId: string, error: string): Promise<number[]> {
  const { rows } = await sql.query<{ attempt: number }>({
    name: 'close-abandoned-deliveries',
    text: `UPDATE callback_deliveries SET outcome = 'failed', error = $2
      WHERE event_id = $1 AND outcome IS NULL RETURNING attempt`,
    values: [eventId, error],
  })
  return rows.map((row) => row.attempt)
}

export interface StartedAttempt {
  id: string
  /** The caption or batch whose event it sends. */
  subject: SubjectRef
  eventId: string
  attempt: number
  attemptedAt: Date
  url: string
  owner: string
  /** When the next attempt is due should this one fail (or be cut short): written before it leaves. */
  nextAt: Date
}

/**
 * Counts an attempt before its request leaves, in one statement: the attempt row, the subject's count
 * and its next due time, and the end of a pending re-send request (this attempt answers it). Only
 * while `owner` holds the lease and nobody counted this attempt first; false otherwise.
 */
export async function startAttempt(sql: Sql, attempt: StartedAttempt): Promise<boolean> {
  const { rowCount } = await sql.query({
    ...statementsOf(attempt.subject.kind).startAttempt,
    values: attemptValues(attempt),
  })
  return rowCount === 1
}

/**
 * A first attempt together with the event it sends, in one statement: the event is written only while
 * `owner` holds the lease and no attempt was counted, and the attempt is counted only if the event was
 * written. `event_exists` when the subject has an event already (a replica that made it died before
 * its first attempt): nothing was written, and that event is the one to send.
 */
export async function startFirstAttempt(
  sql: Sql,
  attempt: StartedAttempt,
  event: Omit<CallbackEventRow, 'resendRequestedAt' | 'id' | 'subjectId'>,
): Promise<'started' | 'event_exists' | 'not_leased'> {
  const { rows } = await sql.query<{ leased: number; made: number; counted: number }>({
    ...statementsOf(attempt.subject.kind).startFirstAttempt,
    values: [...attemptValues(attempt), event.type, event.body, event.createdAt],
  })
  const row = rows[0]
  if (row?.counted === 1) return 'started'
  return row?.leased === 1 && row.made === 0 ? 'event_exists' : 'not_leased'
}

/** $1 to $8 of the statements that count an attempt. */
function attemptValues(attempt: StartedAttempt): unknown[] {
  return [
    attempt.id,
    attempt.eventId,
    attempt.attempt,
    attempt.attemptedAt,
    attempt.url,
    attempt.nextAt,
    attempt.subject.id,
    attempt.owner,
  ]
}

export interface AttemptResult {
  statusCode: number | null
  error: string | null
  durationMs: number
  outcome: DeliveryOutcome
}

/**
 * Records how an attempt ended and gives the subject's lease back, in one statement. The subject's
 * state moves to `state` only if its next due time is still the one written when the attempt started:
 * a caller that asked for a re-send meanwhile made it due now, and it stays pending.
 */
export async function finishAttempt(
  sql: Sql,
  attempt: Pick<StartedAttempt, 'id' | 'subject' | 'owner' | 'nextAt'>,
  result: AttemptResult,
  state: CallbackStateAfter,
): Promise<boolean> {
  const { rowCount } = await sql.query({
    ...statementsOf(attempt.subject.kind).finishAttempt,
    values: [
      attempt.id,
      result.outcome,
      result.statusCode,
      result.error,
      result.durationMs,
      state,
      attempt.subject.id,
      attempt.nextAt,
      attempt.owner,
    ],
  })
  return rowCount === 1
}

/**
 * Gives the subject's lease back without an attempt, moving its callback state to `state` when given,
 * but only if its next due time is still `seenNextAt` (a re-send asked for meanwhile keeps it pending).
 */
export async function releaseCallback(
  sql: Sql,
  subject: SubjectRef,
  owner: string,
  change?: { state: CallbackStateAfter; seenNextAt: Date | null },
): Promise<void> {
  await sql.query({
    ...statementsOf(subject.kind).release,
    values: [subject.id, owner, change?.state ?? null, change?.seenNextAt ?? null],
  })
}

/**
 * A caller's request to send a finished subject's event again now: its callback turns pending and due,
 * and its event (once made) is marked as asked for, so that the retry window does not hold it back.
 * Background work does the sending. False when the subject is not the caller's, has no callbackUrl or
 * is not finished (a batch: not completed).
 */
export async function requestResend(
  sql: Sql,
  request: { subject: SubjectRef; caller: string; now: Date },
): Promise<boolean> {
  const { rows } = await sql.query<{ asked: number }>({
    ...statementsOf(request.subject.kind).requestResend,
    values: [request.subject.id, request.caller, request.now],
  })
  return rows[0]?.asked === 1
}

/** Every finished attempt of a subject's event, oldest first (one in flight shows once it ends). */
export async function listDeliveries(sql: Sql, subject: SubjectRef): Promise<DeliveryRow[]> {
  const { rows } = await sql.query<DeliveryRow>({
    ...statementsOf(subject.kind).listDeliveries,
    values: [subject.id],
  })
  return rows
}

import type { FastifyBaseLogger } from 'fastify'
import type pg from 'pg'
import { type BackoffPolicy, backoffDelay } from '../lib/backoff.js'
import { databaseProblem } from './database-errors.js'

/**
 * Why a subscriber is called: its key was notified; the connection (re)started listening, so a notice
 * may have been missed meanwhile and the subscriber should look again; or the listener closed for good.
 */
export type NoticeReason = 'notified' | 'recheck' | 'closed'

/**
 * PostgreSQL notices on one channel, heard on one connection of the replica's own (outside the pool),
 * handed to the subscribers of each payload. The connection is opened at the first subscription, kept
 * until `close`, and opened again with backoff when it drops. Subscribing takes no connection.
 */
export interface Notices {
  /** Calls `onNotice` for each notice whose payload is `key`; returns the unsubscribe. */
  subscribe(key: string, onNotice: (reason: NoticeReason) => void): () => void
  /** How many subscriptions are open (what the waiting requests of this replica are). */
  subscribers(): number
  /** Stops listening; every subscriber is told `closed`, and later subscribers at once. */
  close(): Promise<void>
}

/** From 100 ms, doubling, to at most 10 s between two tries. */
const RECONNECT: BackoffPolicy = { baseMs: 100, factor: 2, maxMs: 10_000 }

export function listenForNotices(options: {
  channel: string
  /** A new connection, not yet connected (see `dedicatedClient`). */
  connect: () => pg.Client
  log: FastifyBaseLogger
  retry?: BackoffPolicy
}): Notices {
  const { channel, log } = options
  const retry = options.retry ?? RECONNECT
  const byKey = new Map<string, Set<(reason: NoticeReason) => void>>()
  let client: pg.Client | undefined
  let started = false
  let closed = false
  let attempt = 0
  let timer: NodeJS.Timeout | undefined

  const tellAll = (reason: NoticeReason) => {
    for (const listeners of [...byKey.values()]) for (const listener of [...listeners]) listener(reason)
  }

  const connect = async () => {
    timer = undefined
    if (closed) return
    const next = options.connect()
    client = next
    // An idle connection that loses its server must not crash the process: it is opened again below.
    next.on('error', () => {})
    next.on('notification', (notice) => {
      if (notice.channel !== channel || notice.payload === undefined) return
      for (const listener of [...(byKey.get(notice.payload) ?? [])]) listener('notified')
    })
    next.on('end', () => {
      if (client !== next || closed) return
      client = undefined
      log.warn({ channel }, 'the notice connection dropped; opening it again')
      reconnectLater()
    })
    try {
      await next.connect()
      await next.query(`LISTEN ${channel}`)
    } catch (error) {
      if (client === next) client = undefined
      await next.end().catch(() => {})
      if (closed) return
      log.warn({ channel, reason: databaseProblem(error) }, 'cannot listen for notices; trying again')
      reconnectLater()
      return
    }
    if (closed) {
      await next.end().catch(() => {})
      return
    }
    attempt = 0
    // Whatever was notified before this connection listened is unknown: every subscriber looks again.
    tellAll('recheck')
  }
  const reconnectLater = () => {
    attempt += 1
    timer = setTimeout(connect, backoffDelay(attempt, retry))
    timer.unref()
  }

  return {
    subscribe(key, onNotice) {
      if (closed) {
        queueMicrotask(() => onNotice('closed'))
        return () => {}
      }
      const listeners = byKey.get(key) ?? new Set()
      byKey.set(key, listeners)
      listeners.add(onNotice)
      if (!started) {
        started = true
        void connect()
      }
      return () => {
        const current = byKey.get(key)
        current?.delete(onNotice)
        if (current?.size === 0) byKey.delete(key)
      }
    },
    subscribers() {
      let count = 0
      for (const listeners of byKey.values()) count += listeners.size
      return count
    },
    async close() {
      if (closed) return
      closed = true
      clearTimeout(timer)
      tellAll('closed')
      const last = client
      client = undefined
      await last?.end().catch(() => {})
    },
  }
}

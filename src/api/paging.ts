import { InvalidCursor } from './error-catalog.js'

/** Where a list newest first stopped: the last row's creation time and id (the keyset). */
export interface TimePosition {
  createdAt: Date
  id: string
}

/** The kinds of position a cursor holds: a keyset in a list newest first, or an item's index in a batch. */
interface Positions {
  time: TimePosition
  item: number
}
type CursorKind = keyof Positions

const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/
// What PostgreSQL's timestamptz takes (it has no year 0, and the driver cannot write years before it).
const EARLIEST_CURSOR = Date.parse('0001-01-01T00:00:00.000Z')
const LATEST_CURSOR = Date.parse('9999-12-31T23:59:59.999Z')
const MAX_ITEM_INDEX = 1_000_000

/** Far longer than any cursor this service issues: a longer one is refused before it is decoded. */
export const MAX_CURSOR_LENGTH = 512

/** Each kind's position as the JSON array a cursor encodes, and back (undefined: not a position). */
const CODECS: {
  [K in CursorKind]: {
    parts(position: Positions[K]): unknown[]
    read(parts: unknown[]): Positions[K] | undefined
  }
} = {
  time: {
    parts: (position) => [position.createdAt.toISOString(), position.id],
    read: ([createdAt, id]) => {
      const date = typeof createdAt === 'string' ? new Date(createdAt) : undefined
      const time = date?.getTime() ?? Number.NaN
      return date &&
        time >= EARLIEST_CURSOR &&
        time <= LATEST_CURSOR &&
        typeof id === 'string' &&
        UUID.test(id)
        ? { createdAt: date, id }
        : undefined
    },
  },
  item: {
    parts: (index) => ['item', index],
    read: ([kind, index]) =>
      kind === 'item' &&
      Number.isInteger(index) &&
      (index as number) >= 0 &&
      (index as number) < MAX_ITEM_INDEX
        ? (index as number)
        : undefined,
  },
}

/** An opaque cursor: the position as a JSON array, base64url-encoded. */
export function encodeCursor<K extends CursorKind>(kind: K, position: Positions[K]): string {
  return Buffer.from(JSON.stringify(CODECS[kind].parts(position))).toString('base64url')
}

/** The position a cursor of `kind` holds; anything this service did not issue is invalid_cursor. */
export function decodeCursor<K extends CursorKind>(kind: K, cursor: string): Positions[K] {
  if (cursor.length > MAX_CURSOR_LENGTH) throw new InvalidCursor()
  try {
    const parts: unknown = JSON.parse(Buffer.from(cursor, 'base64url').toString('utf8'))
    const position = Array.isArray(parts) ? CODECS[kind].read(parts) : undefined
    if (position !== undefined) return position
  } catch {
    // falls through to the error below
  }
  throw new InvalidCursor()
}

/**
 * One page of a list: `read` is asked for one row more than the page holds, which tells whether another
 * page exists without a count, from the position the request's cursor holds; the next cursor is the
 * position of the page's last row.
 */
export async function readPage<K extends CursorKind, Row>(
  kind: K,
  page: { limit: number; cursor?: string | undefined },
  read: (request: { limit: number; after: Positions[K] | undefined }) => Promise<Row[]>,
  positionOf: (row: Row) => Positions[K],
): Promise<{ items: Row[]; nextCursor: string | null }> {
  const after = page.cursor === undefined ? undefined : decodeCursor(kind, page.cursor)
  const rows = await read({ limit: page.limit + 1, after })
  const items = rows.slice(0, page.limit)
  const last = items.at(-1)
  return {
    items,
    nextCursor: rows.length > page.limit && last !== undefined ? encodeCursor(kind, positionOf(last)) : null,
  }
}

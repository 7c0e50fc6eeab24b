/**
 * PostgreSQL stores neither U+0000 (in text or jsonb) nor an unpaired UTF-16 surrogate (jsonb refuses
 * its `\udXXX` escape): one such character fails the whole statement.
 *
 * Every walk here is a loop over an explicit stack, never recursion: a 1 MiB body can nest JSON hundreds
 * of thousands of levels deep, far past what the call stack holds.
 */
const LONE_SURROGATE = /[\ud800-\udbff](?![\udc00-\udfff])|(?<![\ud800-\udbff])[\udc00-\udfff]/
const LONE_SURROGATES = new RegExp(LONE_SURROGATE.source, 'g')

/** How deep a GoAPI payload is kept: anything nested deeper is replaced by {@link TOO_DEEP}. */
export const MAX_STORED_DEPTH = 64
export const TOO_DEEP = `[nested deeper than ${MAX_STORED_DEPTH} levels]`

const unstorable = (text: string) => text.includes('\u0000') || LONE_SURROGATE.test(text)
const storable = (text: string) => text.replaceAll('\u0000', '\ufffd').replace(LONE_SURROGATES, '\ufffd')

const isContainer = (value: unknown): value is object => value !== null && typeof value === 'object'

/**
 * How many objects and arrays the deepest path of a JSON value passes through (0 for a scalar, 1 for
 * `{}`); counting stops once past `limit`, so a hostile value costs no more than the limit allows.
 */
export function nestingDepth(value: unknown, limit = Number.POSITIVE_INFINITY): number {
  let deepest = 0
  const stack: [unknown, number][] = [[value, 1]]
  while (stack.length > 0) {
    const [current, depth] = stack.pop() as [unknown, number]
    if (!isContainer(current)) continue
    deepest = Math.max(deepest, depth)
    if (deepest > limit) return deepest
    for (const inner of Object.values(current)) stack.push([inner, depth + 1])
  }
  return deepest
}

/** Whether a string, or any key or string inside a JSON value, could not be stored. */
export function hasUnstorableText(value: unknown): boolean {
  const stack: unknown[] = [value]
  while (stack.length > 0) {
    const current = stack.pop()
    if (typeof current === 'string') {
      if (unstorable(current)) return true
    } else if (isContainer(current)) {
      for (const [key, inner] of Object.entries(current)) {
        if (!Array.isArray(current) && unstorable(key)) return true
        stack.push(inner)
      }
    }
  }
  return false
}

/**
 * A deep copy PostgreSQL can store, for what GoAPI says, which we cannot refuse: each unstorable
 * character replaced by U+FFFD, and anything nested deeper than {@link MAX_STORED_DEPTH} levels by
 * {@link TOO_DEEP} (the service reads only the top few levels; the rest is kept for debugging).
 */
export function storableJson(value: unknown): unknown {
  const root: Record<string, unknown> = {}
  // Each entry: a value to copy, the container and key its copy goes to, and its depth there.
  const stack: { value: unknown; into: Record<string, unknown>; key: string; depth: number }[] = [
    { value, into: root, key: 'value', depth: 1 },
  ]
  while (stack.length > 0) {
    const { value: current, into, key, depth } = stack.pop() as (typeof stack)[number]
    let copy: unknown = current
    if (typeof current === 'string') copy = storable(current)
    else if (isContainer(current) && depth > MAX_STORED_DEPTH) copy = TOO_DEEP
    else if (isContainer(current)) {
      const container: Record<string, unknown> = Array.isArray(current) ? ([] as never) : {}
      for (const [innerKey, inner] of Object.entries(current)) {
        const copyKey = Array.isArray(current) ? innerKey : storable(innerKey)
        // Set in order now and filled in later, so the copy keeps the original's key order.
        setOwn(container, copyKey, undefined)
        stack.push({ value: inner, into: container, key: copyKey, depth: depth + 1 })
      }
      copy = container
    }
    setOwn(into, key, copy)
  }
  return root.value
}

/**
 * An own data property, so even a "__proto__" key stays data. Only that key needs defineProperty (an
 * assignment to it would set the prototype); a plain assignment makes the same property of any other,
 * several times faster.
 */
function setOwn(object: Record<string, unknown>, key: string, value: unknown): void {
  if (key === '__proto__') {
    Object.defineProperty(object, key, { value, enumerable: true, writable: true, configurable: true })
  } else object[key] = value
}

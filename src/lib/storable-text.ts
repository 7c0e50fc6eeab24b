/**
 * PostgreSQL stores neither U+0000 (in text or jsonb) nor an unpaired UTF-16 surrogate (jsonb refuses
 * its `\udXXX` escape): one such character fails the whole statement.
 */
const LONE_SURROGATE = /[\ud800-\udbff](?![\udc00-\udfff])|(?<![\ud800-\udbff])[\udc00-\udfff]/
const LONE_SURROGATES = new RegExp(LONE_SURROGATE.source, 'g')

const unstorable = (text: string) => text.includes('\u0000') || LONE_SURROGATE.test(text)
const storable = (text: string) => text.replaceAll('\u0000', '\ufffd').replace(LONE_SURROGATES, '\ufffd')

/** Whether a string, or any key or string inside a JSON value, could not be stored. */
export function hasUnstorableText(value: unknown): boolean {
  if (typeof value === 'string') return unstorable(value)
  if (Array.isArray(value)) return value.some(hasUnstorableText)
  if (value === null || typeof value !== 'object') return false
  return Object.entries(value).some(([key, inner]) => unstorable(key) || hasUnstorableText(inner))
}

/** A deep copy with each unstorable character replaced by U+FFFD: for what GoAPI says, which we cannot refuse. */
export function storableJson(value: unknown): unknown {
  if (typeof value === 'string') return storable(value)
  if (Array.isArray(value)) return value.map(storableJson)
  if (value === null || typeof value !== 'object') return value
  // fromEntries defines own properties, so a "__proto__" key stays data.
  return Object.fromEntries(Object.entries(value).map(([key, inner]) => [storable(key), storableJson(inner)]))
}

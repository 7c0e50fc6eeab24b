/** JSON with every object's keys sorted; a loop, not recursion, so no nesting can exhaust the stack. */
export function canonicalJson(value: unknown): string {
  let text = ''
  // What is left to write, next last: a value, or punctuation to append as it is.
  const pending: ({ value: unknown } | string)[] = [{ value }]
  while (pending.length > 0) {
    const next = pending.pop() as { value: unknown } | string
    if (typeof next === 'string') {
      text += next
      continue
    }
    const current = next.value
    if (current === null || typeof current !== 'object') {
      text += JSON.stringify(current) ?? ''
      continue
    }
    const parts: ({ value: unknown } | string)[] = []
    if (Array.isArray(current)) {
      for (const inner of current) parts.push(',', { value: inner })
    } else {
      const entries = Object.entries(current)
        .filter(([, inner]) => inner !== undefined)
        .sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0))
      for (const [key, inner] of entries) parts.push(`,${JSON.stringify(key)}:`, { value: inner })
    }
    const [open, close] = Array.isArray(current) ? ['[', ']'] : ['{', '}']
    if (typeof parts[0] === 'string') parts[0] = parts[0].slice(1)
    pending.push(close)
    for (let index = parts.length - 1; index >= 0; index--)
      pending.push(parts[index] as (typeof parts)[number])
    pending.push(open)
  }
  return text
}

/**
 * The first key in a parsed JSON value that could reach an object's prototype if the value were ever
 * merged into another object: `__proto__`, or `constructor` holding a `prototype`. A loop over an
 * explicit stack, so no nesting can exhaust the call stack.
 */
export function prototypeKey(value: unknown): '__proto__' | 'constructor.prototype' | undefined {
  const stack: unknown[] = [value]
  while (stack.length > 0) {
    const current = stack.pop()
    if (current === null || typeof current !== 'object') continue
    if (Object.hasOwn(current, '__proto__')) return '__proto__'
    const maker = Object.hasOwn(current, 'constructor')
      ? (current as { constructor: unknown }).constructor
      : null
    if (maker !== null && typeof maker === 'object' && Object.hasOwn(maker, 'prototype'))
      return 'constructor.prototype'
    for (const inner of Object.values(current)) stack.push(inner)
  }
  return undefined
}

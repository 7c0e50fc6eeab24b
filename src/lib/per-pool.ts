/**
 * `make` once per pool, on the pool's first use, and the same value for it after that. Held weakly: a
 * pool that is gone (a test's, say) takes its value with it.
 */
export function perPool<Pool extends object, Value>(make: (pool: Pool) => Value): (pool: Pool) => Value {
  const made = new WeakMap<Pool, Value>()
  return (pool) => {
    if (!made.has(pool)) made.set(pool, make(pool))
    return made.get(pool) as Value
  }
}

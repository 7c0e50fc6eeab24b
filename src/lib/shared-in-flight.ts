/**
 * Runs `read` for a key at most once at a time: callers asking for the same key while a reading is
 * under way get that reading's result (or its error) instead of starting another. Nothing is kept once
 * it settles, so no answer is older than the reading in flight when it was asked for.
 */
export function sharedInFlight<Value>(
  read: (key: string) => Promise<Value>,
): (key: string) => Promise<Value> {
  const readings = new Map<string, Promise<Value>>()
  return (key) => {
    const inFlight = readings.get(key)
    if (inFlight) return inFlight
    const reading = read(key).finally(() => readings.delete(key))
    readings.set(key, reading)
    return reading
  }
}

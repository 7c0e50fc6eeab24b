/**
 * Runs `read` for a key at most once at a time: requests of the same key (`keyOf`) made while a reading
 * of it is under way get that reading's result (or its error) instead of starting another. Nothing is
 * kept once it settles, so no answer is older than the reading in flight when it was asked for.
 */
export function sharedInFlight<Request, Value>(
  read: (request: Request) => Promise<Value>,
  keyOf: (request: Request) => string,
): (request: Request) => Promise<Value> {
  const readings = new Map<string, Promise<Value>>()
  return (request) => {
    const key = keyOf(request)
    const inFlight = readings.get(key)
    if (inFlight) return inFlight
    const reading = read(request).finally(() => readings.delete(key))
    readings.set(key, reading)
    return reading
  }
}

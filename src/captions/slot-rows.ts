/**
 * Up to `limit` free GoAPI task slots of the cap (rows of `goapi_slots`, src/captions/slots.repository.ts),
 * locked until the statement's transaction ends: a statement taking slots at the same time skips them
 * rather than waiting, so creations and replicas take slots side by side and never the same one.
 */
export const freeSlots = (limit: string): string =>
  `SELECT slot FROM goapi_slots WHERE slot > 0 AND caption_id IS NULL
    ORDER BY slot LIMIT ${limit} FOR UPDATE SKIP LOCKED`

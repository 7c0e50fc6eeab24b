const DAY_MS = 24 * 60 * 60 * 1000

/** The UTC day an instant falls on, as PostgreSQL's `date` reads it (`2026-11-28`). */
export const utcDay = (instant: Date): string => instant.toISOString().slice(0, 10)

/** 00:00Z of the instant's UTC day. */
export const startOfUtcDay = (instant: Date): Date => new Date(`${utcDay(instant)}T00:00:00.000Z`)

/** 00:00Z of the UTC day after the instant's. */
export const startOfNextUtcDay = (instant: Date): Date => new Date(startOfUtcDay(instant).getTime() + DAY_MS)

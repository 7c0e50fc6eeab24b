/** What one GoAPI task costs, in cents: every Joycaption run is $0.01. */
export const CENTS_PER_TASK = 1

/** Cents as a number of dollars for JSON (`37` → `0.37`); amounts are counted in whole cents. */
export const centsToUsd = (cents: number): number => cents / 100

/** Cents as a caller reads dollars in a message (`502` → `$5.02`). */
export function formatUsd(cents: number): string {
  const sign = cents < 0 ? '-' : ''
  const whole = Math.abs(cents)
  return `${sign}$${Math.floor(whole / 100)}.${String(whole % 100).padStart(2, '0')}`
}

/**
 * The known name closest to a misspelled one, when it is close enough to be a help: a quarter of the
 * part after `prefix` may be wrong.
 */
export function closestName(name: string, known: readonly string[], prefix = ''): string | undefined {
  const [best] = known
    .map((candidate) => ({ candidate, distance: editDistance(name, candidate) }))
    .sort((a, b) => a.distance - b.distance)
  const tolerance = Math.max(1, Math.floor((name.length - prefix.length) / 4))
  return best && best.distance <= tolerance ? best.candidate : undefined
}

/** Levenshtein distance. */
export function editDistance(a: string, b: string): number {
  let previous = Array.from({ length: b.length + 1 }, (_, j) => j)
  for (let i = 1; i <= a.length; i += 1) {
    const current = [i]
    for (let j = 1; j <= b.length; j += 1) {
      const substitution = (previous[j - 1] as number) + (a[i - 1] === b[j - 1] ? 0 : 1)
      current[j] = Math.min((previous[j] as number) + 1, (current[j - 1] as number) + 1, substitution)
    }
    previous = current
  }
  return previous[b.length] as number
}

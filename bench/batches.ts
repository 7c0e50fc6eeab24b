import { performance } from 'node:perf_hooks'
import { request } from 'undici'

export interface BatchCreationFigures {
  items: number
  runs: number
  p50Ms: number
  maxMs: number
}

/**
 * Times POST /batches of `items` distinct images, `runs` times one after another: the answer comes once
 * the batch and its captions are committed; sending them to GoAPI is left to background work.
 */
export async function measureBatchCreation(options: {
  serviceUrl: string
  authorization: string
  items: number
  runs: number
}): Promise<BatchCreationFigures> {
  const timings: number[] = []
  for (let run = 0; run < options.runs; run++) {
    const body = JSON.stringify({
      items: Array.from({ length: options.items }, (_, index) => ({
        imageUrl: `https://images.example.com/bench/batch-${run}/${index}.png`,
        name: `image-${index}`,
      })),
      prepend: 'ohwx',
    })
    const started = performance.now()
    const response = await request(`${options.serviceUrl}/batches`, {
      method: 'POST',
      headers: { 'content-type': 'application/json', authorization: options.authorization },
      body,
    })
    const answer = await response.body.text()
    timings.push(performance.now() - started)
    if (response.statusCode !== 202)
      throw new Error(`POST /batches answered ${response.statusCode}: ${answer}`)
  }
  const sorted = [...timings].sort((a, b) => a - b)
  return {
    items: options.items,
    runs: options.runs,
    p50Ms: sorted[Math.floor((sorted.length - 1) / 2)] ?? 0,
    maxMs: sorted.at(-1) ?? 0,
  }
}

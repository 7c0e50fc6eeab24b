import { lookup as dnsLookup, type LookupAddress } from 'node:dns'
import { createWriteStream } from 'node:fs'
import { mkdtemp, rm } from 'node:fs/promises'
import type { LookupFunction } from 'node:net'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { Transform } from 'node:stream'
import { pipeline } from 'node:stream/promises'
import { Agent, request } from 'undici'
import { checkImageUrl, isImageAddressAllowed, type UrlPolicy } from '../callbacks/url-policy.js'

/**
 * The images of a zip export with `images=true`: each fetched once by this service, under the URL
 * policy captions are created under, and spooled to a temporary file so that a slow download of the
 * zip never holds a connection to an image server open, and a body that breaks off or runs past the
 * size limit leaves the image out instead of breaking the archive. A few are fetched ahead of the zip.
 */

/** Images fetched at once ahead of the zip (each waits on disk, at most EXPORT_IMAGE_MAX_BYTES). */
export const IMAGES_AHEAD = 3
/** Longest time one image may take, redirects included. */
export const IMAGE_FETCH_TIMEOUT_MS = 30_000
const MAX_REDIRECTS = 3

/** Content types an image is taken as, and the extension its entry gets. */
export const IMAGE_EXTENSIONS: Readonly<Record<string, string>> = {
  'image/png': 'png',
  'image/jpeg': 'jpg',
  'image/jpg': 'jpg',
  'image/pjpeg': 'jpg',
  'image/webp': 'webp',
  'image/gif': 'gif',
  'image/bmp': 'bmp',
  'image/avif': 'avif',
  'image/tiff': 'tiff',
  'image/jxl': 'jxl',
}

/** Why an image was left out of the zip: `imageError` in batch.jsonl (`http_<status>` besides these). */
export const IMAGE_ERRORS = {
  url_refused: 'the URL, a redirect, or the address its host resolved to is not allowed here',
  too_large: 'larger than EXPORT_IMAGE_MAX_BYTES',
  not_an_image: `the content type is not one of ${[...new Set(Object.keys(IMAGE_EXTENSIONS))].join(', ')}`,
  too_many_redirects: `more than ${MAX_REDIRECTS} redirects`,
  timeout: `not fetched within ${IMAGE_FETCH_TIMEOUT_MS / 1000} s`,
  unreachable: 'the connection failed or broke off',
} as const
export type ImageError = keyof typeof IMAGE_ERRORS | `http_${number}`

export type FetchedImage = { file: string; extension: string } | { error: ImageError }

export interface ImageFetcher {
  /** Fetches one image to a file of its own; never throws. */
  fetch(url: string): Promise<FetchedImage>
  /** Stops what is in flight and removes every file left. */
  close(): Promise<void>
}

const REFUSED_ADDRESS = 'ERR_IMAGE_ADDRESS_REFUSED'

/** Name resolution that keeps only the addresses the policy allows, so none other is connected to. */
function policyLookup(policy: UrlPolicy): LookupFunction {
  return (hostname, options, callback) => {
    dnsLookup(hostname, { ...options, all: true }, (error, addresses: LookupAddress[]) => {
      if (error) return callback(error, '', 0)
      const allowed = addresses.filter((entry) => isImageAddressAllowed(entry.address, policy))
      const first = allowed[0]
      if (first === undefined) {
        const refused = Object.assign(new Error(`${hostname} resolves to no allowed address`), {
          code: REFUSED_ADDRESS,
        })
        return callback(refused, '', 0)
      }
      if (options.all) return (callback as unknown as (e: null, a: LookupAddress[]) => void)(null, allowed)
      callback(null, first.address, first.family)
    })
  }
}

/** Counts the bytes through it and fails past `limit`. */
function byteLimit(limit: number): Transform {
  let seen = 0
  return new Transform({
    transform(chunk: Buffer, _encoding, done) {
      seen += chunk.length
      if (seen > limit) done(Object.assign(new Error('image too large'), { code: 'too_large' }))
      else done(null, chunk)
    },
  })
}

function errorOf(error: unknown, timedOut: boolean): ImageError {
  if (timedOut) return 'timeout'
  const codes = [error, (error as { cause?: unknown })?.cause].map((e) => (e as { code?: unknown })?.code)
  if (codes.includes('too_large')) return 'too_large'
  if (codes.includes(REFUSED_ADDRESS)) return 'url_refused'
  return 'unreachable'
}

/** An image fetcher for one export: its own connection pool and temporary folder. */
export async function createImageFetcher(options: {
  urlPolicy: UrlPolicy
  maxBytes: number
}): Promise<ImageFetcher> {
  const dir = await mkdtemp(join(tmpdir(), 'caption-export-'))
  const agent = new Agent({ connect: { lookup: policyLookup(options.urlPolicy) } })
  const stop = new AbortController()
  let count = 0

  async function fetchOnce(url: string, file: string): Promise<FetchedImage> {
    const timeout = AbortSignal.timeout(IMAGE_FETCH_TIMEOUT_MS)
    const signal = AbortSignal.any([stop.signal, timeout])
    let current = url
    try {
      for (let redirects = 0; ; redirects++) {
        try {
          if (!/^https?:$/.test(new URL(current).protocol)) throw new Error('not http(s)')
          checkImageUrl(current, options.urlPolicy)
        } catch {
          return { error: 'url_refused' }
        }
        const response = await request(current, {
          dispatcher: agent,
          signal,
          headers: { 'user-agent': 'caption-service', accept: 'image/*' },
        })
        const { statusCode, headers } = response
        const location = headers.location
        if (statusCode >= 300 && statusCode < 400 && typeof location === 'string') {
          await response.body.dump()
          if (redirects === MAX_REDIRECTS) return { error: 'too_many_redirects' }
          current = new URL(location, current).href
          continue
        }
        if (statusCode < 200 || statusCode >= 300) {
          await response.body.dump()
          return { error: `http_${statusCode}` }
        }
        const type = String(headers['content-type'] ?? '')
          .split(';')[0]
          ?.trim()
          .toLowerCase()
        const extension = IMAGE_EXTENSIONS[type ?? '']
        const declared = Number(headers['content-length'] ?? Number.NaN)
        if (extension === undefined || declared > options.maxBytes) {
          response.body.on('error', () => undefined).destroy()
          return { error: extension === undefined ? 'not_an_image' : 'too_large' }
        }
        await pipeline(response.body, byteLimit(options.maxBytes), createWriteStream(file))
        return { file, extension }
      }
    } catch (error) {
      await rm(file, { force: true })
      return { error: errorOf(error, timeout.aborted && !stop.signal.aborted) }
    }
  }

  return {
    fetch: (url) => fetchOnce(url, join(dir, String(count++))),
    async close() {
      stop.abort()
      await agent.destroy().catch(() => undefined)
      await rm(dir, { recursive: true, force: true })
    },
  }
}

/**
 * `run` over the items, up to `ahead` of them started before the one being yielded is taken, results
 * yielded in item order. `run` must not throw. Ended early, it waits for the runs it started.
 */
export async function* inOrderAhead<T, R>(
  items: Iterable<T>,
  ahead: number,
  run: (item: T) => Promise<R>,
): AsyncGenerator<[T, R]> {
  const queue: [T, Promise<R>][] = []
  const iterator = items[Symbol.iterator]()
  const fill = () => {
    while (queue.length < ahead) {
      const next = iterator.next()
      if (next.done) return
      queue.push([next.value, run(next.value)])
    }
  }
  try {
    for (fill(); queue.length > 0; fill()) {
      const [item, result] = queue.shift() as [T, Promise<R>]
      yield [item, await result]
    }
  } finally {
    await Promise.allSettled(queue.map(([, result]) => result))
  }
}

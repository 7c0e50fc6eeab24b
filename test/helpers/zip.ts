import { buffer } from 'node:stream/consumers'
import { fromBufferPromise } from 'yauzl'

export interface ZipEntry {
  name: string
  text: string
  /** The entry's bytes, for entries that are not text (images). */
  data: Buffer
  modified: Date
}

/**
 * Every entry of a zip archive in archive order, read back with yauzl in its strict mode: a name with
 * a backslash, an absolute path or `..` fails the read, as would a size or CRC that does not match.
 */
export async function readZip(archive: Buffer): Promise<ZipEntry[]> {
  const zip = await fromBufferPromise(archive, { lazyEntries: true, strictFileNames: true })
  const entries: ZipEntry[] = []
  for await (const entry of zip.eachEntry()) {
    const data = await buffer(await zip.openReadStreamPromise(entry))
    entries.push({
      name: entry.fileName,
      text: data.toString('utf8'),
      data,
      modified: entry.getLastModDate(),
    })
  }
  return entries
}

/**
 * The `.txt` file each item of a batch is exported to, as LoRA trainers expect it beside the image
 * (`cat.png` → `cat.txt`). A name is sanitized, never refused, and is unique within its batch.
 */

export const MAX_NAME_BYTES = 200

/** The extension a caption's file is stored under (`fileName`), and the export's default. */
export const CAPTION_EXTENSION = 'txt'

/**
 * The name an item is exported under, before it is made unique: given, else the URL's file stem, else
 * the item's 0-based index. An empty name counts as none.
 */
export function baseName(item: { name?: string | undefined; imageUrl: string }, index: number): string {
  const chosen = item.name || urlStem(item.imageUrl)
  const clean = sanitizeName(chosen ?? '')
  return clean === '' ? String(index) : clean
}

/** The last path segment of the URL without its extension; undefined when the path ends in `/`. */
export function urlStem(imageUrl: string): string | undefined {
  const segment = new URL(imageUrl).pathname.split('/').at(-1) ?? ''
  let decoded = segment
  try {
    decoded = decodeURIComponent(segment)
  } catch {
    // a malformed escape: the segment as it is
  }
  const dot = decoded.lastIndexOf('.')
  const stem = dot > 0 ? decoded.slice(0, dot) : decoded
  return stem === '' ? undefined : stem
}

/**
 * Device names Windows reserves whatever the extension (`CON.txt`, `nul.txt.txt` open the device, not
 * a file), matched case-insensitively on the part before the first dot, trailing spaces ignored.
 */
const WINDOWS_DEVICE =
  /^(con|prn|aux|nul|com[0-9\u00b9\u00b2\u00b3]|lpt[0-9\u00b9\u00b2\u00b3]|conin\$|conout\$) *(\.|$)/i

/**
 * A name safe to unzip on Linux, macOS and Windows:
 * - Unicode format characters (category Cf: bidirectional overrides such as U+202E, zero-width
 *   characters) are removed, so a name cannot show one extension and be another;
 * - `/`, `\`, control characters, the characters Windows refuses (`* ? < > | " :`), leading dots and
 *   every run of two dots or more become `_`, so that no name can leave the folder it is written to;
 * - a Windows device name (`CON`, `PRN`, `AUX`, `NUL`, `COM0`-`COM9`, `LPT0`-`LPT9`, with any extension
 *   and in any case) is prefixed with `_`;
 * - then at most MAX_NAME_BYTES bytes of UTF-8, never cutting a character in two. Trailing dots become
 *   `_` too (`a.` would give `a..txt`).
 * What is left may be empty: the caller then falls back to the item's index.
 */
export function sanitizeName(name: string): string {
  const replaced = name
    .replace(/\p{Cf}/gu, '')
    .replace(/[/\\\p{Cc}*?<>|":]/gu, '_')
    .replace(/\.{2,}/g, (dots) => '_'.repeat(dots.length))
    .replace(/^\.+/, (dots) => '_'.repeat(dots.length))
  const safe = WINDOWS_DEVICE.test(replaced) ? `_${replaced}` : replaced
  return truncateUtf8(safe, MAX_NAME_BYTES).replace(/\.+$/, (dots) => '_'.repeat(dots.length))
}

function truncateUtf8(text: string, maxBytes: number): string {
  if (Buffer.byteLength(text) <= maxBytes) return text
  let bytes = 0
  let end = 0
  for (const character of text) {
    const size = Buffer.byteLength(character)
    if (bytes + size > maxBytes) break
    bytes += size
    end += character.length
  }
  return text.slice(0, end)
}

/**
 * Each item's file name, in item order: the first item of a name keeps it plain, later ones get
 * `-2`, `-3` … before `.txt`, skipping any name already taken. Names that differ only in case count
 * as repeats: unzipped on Windows or macOS, `Cat.txt` and `cat.txt` would be one file.
 */
export function fileNamesFor(items: readonly { name?: string | undefined; imageUrl: string }[]): string[] {
  const taken = new Set<string>()
  return items.map((item, index) => {
    const base = baseName(item, index)
    let fileName = `${base}.${CAPTION_EXTENSION}`
    for (let copy = 2; taken.has(fileName.toLowerCase()); copy++)
      fileName = `${base}-${copy}.${CAPTION_EXTENSION}`
    taken.add(fileName.toLowerCase())
    return fileName
  })
}

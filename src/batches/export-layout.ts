import { CAPTION_EXTENSION } from './file-names.js'

/**
 * Where each entry of a zip export goes: the names trainers' tools load directly (kohya's
 * `--caption_extension` and `<repeats>_<concept>` folders). Every entry's path is made here.
 */

export const CAPTION_EXTENSIONS = [CAPTION_EXTENSION, 'caption'] as const
export type CaptionExtension = (typeof CAPTION_EXTENSIONS)[number]

/** kohya's image folder: repeats (1-9999), `_`, then a concept that cannot climb out of the folder. */
export const KOHYA_FOLDER = /^[1-9][0-9]{0,3}_[A-Za-z0-9][A-Za-z0-9 _-]{0,63}$/

export interface EntryLayout {
  /** The folder every entry goes under (already checked against KOHYA_FOLDER); undefined: none. */
  folder: string | undefined
  /** The extension of the caption files. */
  ext: CaptionExtension
}

export const FLAT_LAYOUT: EntryLayout = { folder: undefined, ext: CAPTION_EXTENSION }

const STORED_SUFFIX = `.${CAPTION_EXTENSION}`

/**
 * An item's name without extension: its stored file name (`cat.txt`, unique in the batch) without the
 * stored extension, or its index for a row that has none.
 */
export function itemStem(row: { fileName: string | null; itemIndex: number }): string {
  const stored = row.fileName ?? `${row.itemIndex}${STORED_SUFFIX}`
  return stored.endsWith(STORED_SUFFIX) ? stored.slice(0, -STORED_SUFFIX.length) : stored
}

/** A path in the archive, under the layout's folder. */
export const entryPath = (layout: EntryLayout, fileName: string): string =>
  layout.folder === undefined ? fileName : `${layout.folder}/${fileName}`

/** An item's caption file: `<stem>.<ext>`. */
export const captionEntry = (layout: EntryLayout, stem: string): string =>
  entryPath(layout, `${stem}.${layout.ext}`)

/**
 * An item's image, beside its caption: `<stem>.<image extension>`. Image extensions are never a caption
 * extension, and stems are unique in the batch regardless of case, so no two entries collide.
 */
export const imageEntry = (layout: EntryLayout, stem: string, imageExtension: string): string =>
  entryPath(layout, `${stem}.${imageExtension}`)

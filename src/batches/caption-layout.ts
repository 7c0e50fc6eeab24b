import { captionEntry, type EntryLayout, entryPath, itemStem } from './export-layout.js'

/**
 * How the zip export lays out an item's captions: as files named after the item, one caption per line
 * (`lines`) or one file per prompt style (`files`). Only the entries of one item are decided here.
 */

export const CAPTION_LAYOUTS = ['lines', 'files'] as const
export type CaptionLayout = (typeof CAPTION_LAYOUTS)[number]

/** One completed caption of an item, with the text the export writes for it. */
export interface ItemCaption {
  itemIndex: number
  fileName: string | null
  promptStyle: string
  completedAt: Date | null
  text: string
}

export interface ItemEntry {
  name: string
  text: string
  modified: Date | null
}

/** A prompt style as part of a file name: `Booru-like tag list` → `booru-like-tag-list`. */
export function styleSlug(promptStyle: string): string {
  return promptStyle
    .toLowerCase()
    .split(/[^a-z0-9]+/)
    .filter((part) => part !== '')
    .join('-')
}

/**
 * The entries of one item's completed captions (given in the batch's order of styles, all of one item):
 * - `lines`: `<name>.<ext>`, one caption per line in that order. With several styles, a caption's own
 *   line breaks become spaces, so that each line is one whole caption; with one style its text is as it is.
 * - `files`: `<name>.<style-slug>.<ext>` per caption. Slugs hold no dot and stems are unique in the
 *   batch, so no two entries of a batch can share a name.
 * Both under the entry layout's folder, with its caption extension.
 */
export function itemEntries(
  captions: readonly ItemCaption[],
  options: { layout: CaptionLayout; severalStyles: boolean; entries: EntryLayout },
): ItemEntry[] {
  const first = captions[0]
  if (first === undefined) return []
  const { entries } = options
  const stem = itemStem(first)
  if (options.layout === 'files') {
    return captions.map((caption) => ({
      name: entryPath(entries, `${stem}.${styleSlug(caption.promptStyle)}.${entries.ext}`),
      text: caption.text,
      modified: caption.completedAt,
    }))
  }
  const lines = captions.map((caption) => (options.severalStyles ? oneLine(caption.text) : caption.text))
  return [{ name: captionEntry(entries, stem), text: lines.join('\n'), modified: newest(captions) }]
}

function oneLine(text: string): string {
  return text
    .split(/[\r\n]+/)
    .map((part) => part.trim())
    .filter((part) => part !== '')
    .join(' ')
}

function newest(captions: readonly ItemCaption[]): Date | null {
  let latest: Date | null = null
  for (const { completedAt } of captions) {
    if (completedAt !== null && (latest === null || completedAt > latest)) latest = completedAt
  }
  return latest
}

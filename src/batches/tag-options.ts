import type { PromptStyle } from '../goapi/task.js'

/**
 * The export options that clean a tag list the way trainers' tools do (taggui's filters): which tags to
 * drop, repeats, underscores, how many to keep. They apply to the tag-list styles only; a prose caption
 * has no tags to clean.
 */

export const TAG_LIST_STYLES: readonly PromptStyle[] = [
  'Danbooru tag list',
  'e621 tag list',
  'Rule34 tag list',
  'Booru-like tag list',
]

export const TAG_UNDERSCORES = ['spaces', 'keep'] as const
export type TagUnderscores = (typeof TAG_UNDERSCORES)[number]

export interface TagOptions {
  /** Tags dropped wherever they stand, compared whole and case-insensitively. */
  exclude: readonly string[]
  /** Later repeats of a tag dropped. */
  dedupe: boolean
  /** `spaces`: `long_hair` becomes `long hair`; `keep` leaves tags as they are. */
  underscores: TagUnderscores
  /** At most this many tags, the first ones; undefined: all. */
  max: number | undefined
}

export const NO_TAG_OPTIONS: TagOptions = { exclude: [], dedupe: false, underscores: 'keep', max: undefined }

/** Whether any option asks for a change: without one, the text is exported exactly as it was. */
export const hasTagOptions = (options: TagOptions): boolean =>
  options.exclude.length > 0 || options.dedupe || options.underscores !== 'keep' || options.max !== undefined

export const isTagListStyle = (style: string): boolean =>
  (TAG_LIST_STYLES as readonly string[]).includes(style)

/**
 * Two spellings of one tag compare equal: case, surrounding whitespace, and underscore against space
 * (`Long_Hair` is `long hair`), since the same tag comes either way from different boorus.
 */
const tagKey = (tag: string) => tag.trim().toLowerCase().replaceAll('_', ' ')

/**
 * A tag list (tags separated by commas, prepend and append already in it) cleaned as the options say,
 * in this order: excluded tags dropped, repeats dropped, underscores turned to spaces, then the first
 * `max` kept (so a trigger word put first survives the cut). Joined again with `, `.
 */
export function applyTagOptions(text: string, options: TagOptions): string {
  const excluded = new Set(options.exclude.map(tagKey))
  const seen = new Set<string>()
  const kept: string[] = []
  for (const part of text.split(',')) {
    const tag = part.trim()
    const key = tagKey(tag)
    if (key === '' || excluded.has(key)) continue
    if (options.dedupe) {
      if (seen.has(key)) continue
      seen.add(key)
    }
    kept.push(options.underscores === 'spaces' ? tag.replaceAll('_', ' ') : tag)
  }
  return (options.max === undefined ? kept : kept.slice(0, options.max)).join(', ')
}

/** The text of a caption in `style` after the tag options: unchanged for a prose style or no options. */
export function withTagOptions(style: string, text: string, options: TagOptions): string {
  return isTagListStyle(style) && hasTagOptions(options) ? applyTagOptions(text, options) : text
}

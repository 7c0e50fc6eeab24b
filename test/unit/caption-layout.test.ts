import { describe, expect, it } from 'vitest'
import { type ItemCaption, itemEntries, styleSlug } from '../../src/batches/caption-layout.js'
import { FLAT_LAYOUT } from '../../src/batches/export-layout.js'
import { PROMPT_STYLES } from '../../src/goapi/task.js'

const caption = (promptStyle: string, text: string, completedAt = new Date('2026-01-01T00:00:00Z')) =>
  ({ itemIndex: 3, fileName: 'cat.txt', promptStyle, completedAt, text }) satisfies ItemCaption

describe('caption layout of the zip export', () => {
  it('when every prompt style is made a slug, then each is distinct, lower-case and has no dot', () => {
    const slugs = PROMPT_STYLES.map(styleSlug)
    expect(new Set(slugs).size).toBe(PROMPT_STYLES.length)
    for (const slug of slugs) expect(slug).toMatch(/^[a-z0-9]+(-[a-z0-9]+)*$/)
    expect(styleSlug('Booru-like tag list')).toBe('booru-like-tag-list')
    expect(styleSlug('Descriptive (Casual)')).toBe('descriptive-casual')
  })

  it('when several styles go to lines, then each caption is one line, its own line breaks made spaces', () => {
    const [entry, ...rest] = itemEntries(
      [caption('Descriptive', 'A cat.\r\n\r\n  It naps.\n'), caption('Booru-like tag list', 'cat, mat')],
      { layout: 'lines', severalStyles: true, entries: FLAT_LAYOUT },
    )
    expect(rest).toEqual([])
    expect(entry).toEqual({
      name: 'cat.txt',
      text: 'A cat. It naps.\ncat, mat',
      modified: new Date('2026-01-01T00:00:00Z'),
    })
  })

  it('when one style goes to lines, then the caption is written as it is, as before', () => {
    expect(
      itemEntries([caption('Descriptive', 'A cat.\nIt naps.')], {
        layout: 'lines',
        severalStyles: false,
        entries: FLAT_LAYOUT,
      }),
    ).toEqual([{ name: 'cat.txt', text: 'A cat.\nIt naps.', modified: expect.any(Date) }])
  })

  it('when files are asked for, then each caption is <name>.<slug>.<ext>, under the folder of the layout with its extension', () => {
    const captions = [caption('Descriptive', 'a'), caption('e621 tag list', 'b')]
    expect(
      itemEntries(captions, { layout: 'files', severalStyles: true, entries: FLAT_LAYOUT }).map(
        (entry) => entry.name,
      ),
    ).toEqual(['cat.descriptive.txt', 'cat.e621-tag-list.txt'])
    expect(
      itemEntries(captions, {
        layout: 'files',
        severalStyles: true,
        entries: { folder: '10_ohwx', ext: 'caption' },
      }).map((entry) => entry.name),
    ).toEqual(['10_ohwx/cat.descriptive.caption', '10_ohwx/cat.e621-tag-list.caption'])
  })

  it('when lines hold captions completed at different times, then the file is dated by the newest', () => {
    const [entry] = itemEntries(
      [
        caption('Descriptive', 'a', new Date('2026-01-02T00:00:00Z')),
        caption('MidJourney', 'b', new Date('2026-01-05T00:00:00Z')),
      ],
      { layout: 'lines', severalStyles: true, entries: FLAT_LAYOUT },
    )
    expect(entry?.modified).toEqual(new Date('2026-01-05T00:00:00Z'))
  })
})

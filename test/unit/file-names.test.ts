import { describe, expect, it } from 'vitest'
import {
  baseName,
  fileNamesFor,
  MAX_NAME_BYTES,
  sanitizeName,
  urlStem,
} from '../../src/batches/file-names.js'

const url = (path: string) => `https://images.example.com${path}`

/** What a zip tool or a shell would take as leaving the folder the files are written to. */
function escapes(fileName: string): boolean {
  return (
    /[/\\]/.test(fileName) ||
    fileName.includes('..') ||
    fileName.startsWith('.') ||
    /^[A-Za-z]:/.test(fileName)
  )
}

describe('the name an item is exported under', () => {
  it('when the item has a name, then that name is used', () => {
    expect(baseName({ name: 'cat', imageUrl: url('/dog.png') }, 3)).toBe('cat')
  })

  it('when the item has no name, then the file stem of the URL path is used', () => {
    expect(baseName({ imageUrl: url('/photos/dog.png') }, 3)).toBe('dog')
    expect(baseName({ imageUrl: url('/photos/archive.tar.gz?size=2#x') }, 3)).toBe('archive.tar')
    expect(baseName({ imageUrl: url('/photos/noext') }, 3)).toBe('noext')
    expect(baseName({ name: '', imageUrl: url('/photos/dog.png') }, 3)).toBe('dog')
  })

  it('when neither a name nor a file stem is there, then the 0-based index is used', () => {
    expect(baseName({ imageUrl: url('/photos/') }, 0)).toBe('0')
    expect(baseName({ imageUrl: url('/') }, 7)).toBe('7')
  })

  it('when the URL path is percent-encoded, then the stem is decoded, then sanitized', () => {
    expect(urlStem(url('/caf%C3%A9%20au%20lait.jpg'))).toBe('café au lait')
    expect(baseName({ imageUrl: url('/a%2F..%2F..%2Fetc%2Fpasswd.png') }, 0)).toBe('a_______etc_passwd')
    expect(baseName({ imageUrl: url('/%2e%2e.png') }, 0)).toBe('__')
    expect(urlStem(url('/bad%E0%A4%A.png'))).toBe('bad%E0%A4%A')
  })
})

describe('sanitizeName', () => {
  it.each([
    ['../../etc/passwd', '______etc_passwd'],
    ['..\\x', '___x'],
    ['.hidden', '_hidden'],
    ['...', '___'],
    ['.', '_'],
    ['a..b', 'a__b'],
    ['a.b.c', 'a.b.c'],
    ['trailing.', 'trailing_'],
    ['C:\\Windows\\win.ini', 'C__Windows_win.ini'],
    ['c:x', 'c_x'],
    ['12:30', '12_30'],
    ['tab\there', 'tab_here'],
    ['line\nbreak\r', 'line_break_'],
    ['nul\u0000del\u007fc1\u0085', 'nul_del_c1_'],
    ['/abs', '_abs'],
    ['café ✓', 'café ✓'],
  ])('when the name is %j, then it becomes %j', (name, expected) => {
    expect(sanitizeName(name)).toBe(expected)
  })

  it.each([
    ['CON', '_CON'],
    ['CON.txt', '_CON.txt'],
    ['con', '_con'],
    ['COM1.txt', '_COM1.txt'],
    ['lpt9', '_lpt9'],
    ['nul.txt', '_nul.txt'],
    ['Aux.tar.gz', '_Aux.tar.gz'],
    ['prn .png', '_prn .png'],
    ['com\u00b9', '_com\u00b9'],
    ['CONSOLE', 'CONSOLE'],
    ['com10', 'com10'],
    ['my-con', 'my-con'],
  ])('when the name is the Windows device name %j, then it is prefixed: %j', (name, expected) => {
    expect(sanitizeName(name)).toBe(expected)
  })

  it.each([
    ['a*b?c', 'a_b_c'],
    ['<tag>', '_tag_'],
    ['a|b', 'a_b'],
    ['say "hi"', 'say _hi_'],
    ['time 12:30', 'time 12_30'],
  ])('when the name holds characters Windows refuses (%j), then they become _: %j', (name, expected) => {
    expect(sanitizeName(name)).toBe(expected)
  })

  it.each([
    ['invoice\u202egpj.exe', 'invoicegpj.exe'],
    ['a\u200bb\u200dc\ufeffd', 'abcd'],
    ['\u2066x\u2069\u200e\u200f', 'x'],
    ['\u00adsoft', 'soft'],
  ])('when the name holds Unicode format characters (%j), then they are removed: %j', (name, expected) => {
    expect(sanitizeName(name)).toBe(expected)
  })

  it('when a name holds only format characters, then the item falls back to its index', () => {
    expect(baseName({ name: '\u202e\u200b', imageUrl: url('/x/') }, 4)).toBe('4')
    expect(fileNamesFor([{ name: 'nul.txt', imageUrl: url('/a.png') }])).toEqual(['_nul.txt.txt'])
  })

  it('when the name is longer than 200 bytes, then it is cut to 200 without splitting a character', () => {
    expect(sanitizeName('a'.repeat(300))).toBe('a'.repeat(MAX_NAME_BYTES))
    // 3-byte characters: 66 of them fit (198 bytes), the 67th would not.
    const cut = sanitizeName('€'.repeat(100))
    expect(cut).toBe('€'.repeat(66))
    // A 4-byte character (a surrogate pair in JavaScript) is kept whole or dropped whole.
    const emoji = sanitizeName(`${'a'.repeat(198)}😀b`)
    expect(emoji).toBe('a'.repeat(198))
    expect(Buffer.byteLength(sanitizeName('😀'.repeat(80)))).toBe(200)
  })

  it('when a cut would leave a trailing dot, then the dot becomes _', () => {
    expect(sanitizeName(`${'a'.repeat(199)}.png`)).toBe(`${'a'.repeat(199)}_`)
  })
})

describe('fileNamesFor', () => {
  it('when names repeat, then the first in item order keeps the plain name and later ones get -2, -3', () => {
    const names = fileNamesFor([
      { name: 'cat', imageUrl: url('/1.png') },
      { name: 'dog', imageUrl: url('/2.png') },
      { name: 'cat', imageUrl: url('/3.png') },
      { imageUrl: url('/x/cat.jpg') },
      { name: 'cat', imageUrl: url('/5.png') },
    ])
    expect(names).toEqual(['cat.txt', 'dog.txt', 'cat-2.txt', 'cat-3.txt', 'cat-4.txt'])
  })

  it('when a later name is already taken by a -2 of its own, then the next free number is used', () => {
    const names = fileNamesFor([
      { name: 'a-2', imageUrl: url('/1.png') },
      { name: 'a', imageUrl: url('/2.png') },
      { name: 'a', imageUrl: url('/3.png') },
      { name: 'a-2', imageUrl: url('/4.png') },
    ])
    expect(names).toEqual(['a-2.txt', 'a.txt', 'a-3.txt', 'a-2-2.txt'])
  })

  it('when names differ only in case, then they are repeats (one file once unzipped on Windows or macOS)', () => {
    const names = fileNamesFor([
      { name: 'Cat', imageUrl: url('/1.png') },
      { name: 'cat', imageUrl: url('/2.png') },
      { name: 'CAT', imageUrl: url('/3.png') },
    ])
    expect(names).toEqual(['Cat.txt', 'cat-2.txt', 'CAT-3.txt'])
  })

  it('when names sanitize to the same text, then they are repeats too', () => {
    const names = fileNamesFor([
      { name: 'a/b', imageUrl: url('/1.png') },
      { name: 'a\\b', imageUrl: url('/2.png') },
      { name: 'a_b', imageUrl: url('/3.png') },
    ])
    expect(names).toEqual(['a_b.txt', 'a_b-2.txt', 'a_b-3.txt'])
  })

  it('when a name is an index of another item, then both stay unique', () => {
    const names = fileNamesFor([{ name: '1', imageUrl: url('/a.png') }, { imageUrl: url('/') }])
    expect(names).toEqual(['1.txt', '1-2.txt'])
  })

  it('when hostile names are given, then no file name can leave its folder and all are unique', () => {
    const hostile = [
      '../../etc/passwd',
      '..\\x',
      '.hidden',
      '..',
      '.',
      'a.',
      'C:evil',
      '/etc/passwd',
      '\\\\server\\share',
      'x/../../y',
      `${'.'.repeat(250)}`,
      `${'é'.repeat(150)}.`,
      '',
    ]
    const names = fileNamesFor(hostile.map((name, index) => ({ name, imageUrl: url(`/${index}/`) })))
    expect(new Set(names.map((name) => name.toLowerCase())).size).toBe(names.length)
    for (const name of names) {
      expect(escapes(name), name).toBe(false)
      expect(name.endsWith('.txt'), name).toBe(true)
      expect(Buffer.byteLength(name.slice(0, -'.txt'.length)), name).toBeLessThanOrEqual(MAX_NAME_BYTES)
    }
  })
})

import { describe, expect, it } from 'vitest'
import { preferredWait } from '../../src/api/prefer-wait.js'

describe('preferredWait (the Prefer header of POST /captions, RFC 7240)', () => {
  it('when wait=N is 1 to 60, then N seconds', () => {
    expect(preferredWait('wait=1')).toBe(1)
    expect(preferredWait('wait=60')).toBe(60)
    expect(preferredWait(' Wait = "15" ')).toBe(15)
    expect(preferredWait('respond-async, wait=5')).toBe(5)
    expect(preferredWait('wait=7; foo=bar')).toBe(7)
  })

  it('when wait comes without a value, then 60 seconds', () => {
    expect(preferredWait('wait')).toBe(60)
    expect(preferredWait('handling=lenient, wait')).toBe(60)
  })

  it('when the wait is longer than 60 seconds, then it is held to 60', () => {
    expect(preferredWait('wait=61')).toBe(60)
    expect(preferredWait('wait=3600')).toBe(60)
  })

  it('when the wait is 0, not a whole number of seconds, or missing, then the preference is ignored', () => {
    for (const header of [
      undefined,
      '',
      'wait=0',
      'wait=abc',
      'wait=-1',
      'wait=1.5',
      'wait=',
      'wait=1e3',
      'respond-async',
    ])
      expect(preferredWait(header), String(header)).toBeUndefined()
    expect(preferredWait('wait=99999999999999999999')).toBeUndefined()
  })

  it('when wait is given twice, then only the first counts', () => {
    expect(preferredWait('wait=5, wait=10')).toBe(5)
    expect(preferredWait('wait=abc, wait=10')).toBeUndefined()
  })
})

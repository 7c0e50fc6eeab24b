import { randomUUID } from 'node:crypto'
import fc from 'fast-check'
import { describe, expect, it } from 'vitest'
import { captionIdFromSecret, webhookSecretFor } from '../../src/captions/webhook-secret.js'

const OLD_KEY = 'old-webhook-key-0123456789'
const NEW_KEY = 'new-webhook-key-9876543210'

/** The secret with the character at `index` of its mac replaced by another base64url character. */
function withMacCharChanged(secret: string, index: number): string {
  const dot = secret.indexOf('.')
  const position = dot + 1 + index
  const current = secret.charAt(position)
  const replacement = current === 'A' ? 'Q' : 'A'
  return `${secret.slice(0, position)}${replacement}${secret.slice(position + 1)}`
}

describe('webhook secrets', () => {
  it('when a secret is made for a caption, then it verifies as that caption with the signing key', () => {
    const captionId = randomUUID()
    const secret = webhookSecretFor(captionId, [OLD_KEY])
    expect(secret.startsWith(`${captionId}.`)).toBe(true)
    expect(captionIdFromSecret(secret, [OLD_KEY])).toBe(captionId)
  })

  it('when the same caption and key are used twice, then the same secret comes out', () => {
    const captionId = randomUUID()
    expect(webhookSecretFor(captionId, [OLD_KEY])).toBe(webhookSecretFor(captionId, [OLD_KEY]))
  })

  it('when keys rotate (new first, old second), then secrets of both keys verify and new ones use the new key', () => {
    const inFlight = randomUUID()
    const fresh = randomUUID()
    const oldSecret = webhookSecretFor(inFlight, [OLD_KEY])
    const rotated = [NEW_KEY, OLD_KEY]
    const newSecret = webhookSecretFor(fresh, rotated)

    expect(captionIdFromSecret(oldSecret, rotated)).toBe(inFlight)
    expect(captionIdFromSecret(newSecret, rotated)).toBe(fresh)
    expect(newSecret).toBe(webhookSecretFor(fresh, [NEW_KEY]))
    expect(newSecret).not.toBe(webhookSecretFor(fresh, [OLD_KEY]))
  })

  it('when the key that made a secret has been removed, then the secret no longer verifies', () => {
    const secret = webhookSecretFor(randomUUID(), [OLD_KEY])
    expect(captionIdFromSecret(secret, [NEW_KEY])).toBeUndefined()
  })

  it('when no key is configured, then nothing verifies and no secret can be made', () => {
    const captionId = randomUUID()
    expect(captionIdFromSecret(webhookSecretFor(captionId, [OLD_KEY]), [])).toBeUndefined()
    expect(() => webhookSecretFor(captionId, [])).toThrow()
  })

  it('when any character of the mac is changed, then the secret does not verify', () => {
    const captionId = randomUUID()
    const secret = webhookSecretFor(captionId, [OLD_KEY])
    const macLength = secret.length - secret.indexOf('.') - 1
    // The last character also carries padding bits, so only full-data characters are changed.
    for (let index = 0; index < macLength - 1; index += 1) {
      expect(captionIdFromSecret(withMacCharChanged(secret, index), [OLD_KEY])).toBeUndefined()
    }
  })

  it('when the mac is cut short or lengthened, then the secret does not verify', () => {
    const secret = webhookSecretFor(randomUUID(), [OLD_KEY])
    expect(captionIdFromSecret(secret.slice(0, -4), [OLD_KEY])).toBeUndefined()
    expect(captionIdFromSecret(`${secret}AAAA`, [OLD_KEY])).toBeUndefined()
  })

  it.each([
    ['junk appended', (secret: string) => `${secret}!!`],
    ['a space inside the mac', (secret: string) => `${secret.slice(0, -5)} ${secret.slice(-5)}`],
    ['padding appended', (secret: string) => `${secret}=`],
  ])('when the presented secret differs from the issued one by %s, then it does not verify', (_, alter) => {
    const secret = webhookSecretFor(randomUUID(), [OLD_KEY])
    const altered = alter(secret)
    expect(altered).not.toBe(secret)
    expect(captionIdFromSecret(altered, [OLD_KEY])).toBeUndefined()
  })

  it("when another caption's id is put in front of a valid mac, then it does not verify", () => {
    const secret = webhookSecretFor(randomUUID(), [OLD_KEY])
    const mac = secret.slice(secret.indexOf('.') + 1)
    expect(captionIdFromSecret(`${randomUUID()}.${mac}`, [OLD_KEY])).toBeUndefined()
  })

  it.each([
    ['no dot', (_id: string, secret: string) => secret.replace('.', '')],
    ['a non-UUID id', (_id: string, secret: string) => `caption-1${secret.slice(secret.indexOf('.'))}`],
    ['an empty mac', (id: string) => `${id}.`],
    ['only the id', (id: string) => id],
    ['an empty string', () => ''],
  ])('when the secret has %s, then it does not verify', (_, make) => {
    const captionId = randomUUID()
    const presented = make(captionId, webhookSecretFor(captionId, [OLD_KEY]))
    expect(captionIdFromSecret(presented, [OLD_KEY])).toBeUndefined()
  })

  it('when no secret is presented, then nothing verifies', () => {
    expect(captionIdFromSecret(undefined, [OLD_KEY])).toBeUndefined()
  })

  it('when secrets are made with any key, then the key never appears in them and they verify only with it', () => {
    fc.assert(
      fc.property(fc.uuid({ version: 4 }), fc.string({ minLength: 16, maxLength: 64 }), (captionId, key) => {
        const secret = webhookSecretFor(captionId, [key])
        expect(secret).not.toContain(key)
        expect(secret).not.toContain(Buffer.from(key).toString('base64url'))
        expect(captionIdFromSecret(secret, [key])).toBe(captionId)
        expect(captionIdFromSecret(secret, [`${key}x`])).toBeUndefined()
      }),
      { numRuns: 200 },
    )
  })
})

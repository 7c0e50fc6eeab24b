/**
 * Captions one image through the typed client: `npx tsx clients/typescript/example.ts <image URL>`
 * with the service running (`npm start`); CAPTION_SERVICE_URL and CAPTION_SERVICE_TOKEN point it
 * elsewhere.
 */
import { captionClient, waitForCaption } from './client.js'

const imageUrl = process.argv[2] ?? 'https://example.com/cat.png'
const captions = captionClient({
  baseUrl: process.env.CAPTION_SERVICE_URL ?? 'http://localhost:3000',
  token: process.env.CAPTION_SERVICE_TOKEN,
})

const created = await captions.POST('/captions', {
  body: { imageUrl, promptStyle: 'Straightforward', metadata: { source: 'example' } },
  params: { header: { 'idempotency-key': `example-${imageUrl}`.slice(0, 255) } },
})
if (created.error) throw new Error(`${created.error.code}: ${created.error.message}`)
console.log(`accepted ${created.data.id} (${created.data.status})`)

const caption = await waitForCaption(captions, created.data.id)
console.log(caption.status === 'completed' ? caption.caption : `failed: ${caption.error?.code}`)

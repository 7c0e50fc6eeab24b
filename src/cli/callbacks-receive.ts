import { parseArgs } from 'node:util'
import { DEV_CALLBACK_SIGNING_SECRET } from '../config.js'
import { type ReceivedDelivery, startCallbacksReceiver } from './callbacks-receiver.js'

const USAGE = `usage: npm run callbacks:receive -- [--port 8788] [--host 127.0.0.1] [--fail N] [--gone]
  Verifies each callback's signature with the keys in CALLBACK_SIGNING_SECRET (the zero-setup mode's
  development secret when unset), prints the event, and answers 200; 401 when the signature does not
  verify. --fail N answers 500 to the first N deliveries of each event; --gone answers 410 Gone.`

function settings() {
  const { values } = parseArgs({
    options: {
      port: { type: 'string', default: '8788' },
      host: { type: 'string', default: '127.0.0.1' },
      fail: { type: 'string', default: '0' },
      gone: { type: 'boolean', default: false },
      help: { type: 'boolean', default: false },
    },
  })
  const port = Number(values.port)
  const failTimes = Number(values.fail)
  if (values.help || !Number.isInteger(port) || port < 0 || port > 65535) throw new Error(USAGE)
  if (!Number.isInteger(failTimes) || failTimes < 0)
    throw new Error(`--fail: must be a whole number\n${USAGE}`)
  const secrets = (process.env.CALLBACK_SIGNING_SECRET ?? '')
    .split(',')
    .map((secret) => secret.trim())
    .filter(Boolean)
  return { port, host: values.host, failTimes, gone: values.gone, secrets }
}

function report(delivery: ReceivedDelivery): void {
  const id = delivery.headers['webhook-id'] ?? '(no webhook-id)'
  const verdict =
    delivery.verifiedBy.length > 0
      ? `signature verified (key ${delivery.verifiedBy.map((index) => index + 1).join(', ')})`
      : `signature NOT verified: ${delivery.verifyError ?? 'no key'}`
  console.log(
    `${delivery.at.toISOString()} POST ${delivery.path} webhook-id=${id} ${verdict} -> ${delivery.statusCode}`,
  )
  if (delivery.event !== undefined) console.log(JSON.stringify(delivery.event))
}

async function main(): Promise<void> {
  const { secrets, ...options } = settings()
  const keys = secrets.length > 0 ? secrets : [DEV_CALLBACK_SIGNING_SECRET]
  const receiver = await startCallbacksReceiver({ ...options, secrets: keys, onDelivery: report })
  const mode = options.gone
    ? 'answering 410 Gone'
    : options.failTimes > 0
      ? `answering 500 to the first ${options.failTimes} deliveries of each event`
      : 'answering 200'
  console.log(
    `callbacks receiver on ${receiver.url} (any path), ${mode}, verifying with ${secrets.length > 0 ? `${keys.length} key(s) from CALLBACK_SIGNING_SECRET` : 'the development secret'}`,
  )
  for (const signal of ['SIGINT', 'SIGTERM'] as const) {
    process.once(signal, () => void receiver.close().then(() => process.exit(0)))
  }
}

main().catch((error: unknown) => {
  console.error(error instanceof Error ? error.message : error)
  process.exit(1)
})

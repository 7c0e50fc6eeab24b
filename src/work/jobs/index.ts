import type { AnyJob } from '../job.js'
import { batchCallbacks, captionCallbacks } from './callbacks.js'
import { captionSteps } from './caption-steps.js'
import { expiredIdempotencyKeys } from './expired-idempotency-keys.js'
import { retention } from './retention.js'
import { taskSlots } from './task-slots.js'
import { usageDaysFold } from './usage-days-fold.js'

/** Every kind of background work a replica does; a new one is a file beside these and a line here. */
export const JOBS: readonly AnyJob[] = [
  captionSteps,
  captionCallbacks,
  batchCallbacks,
  taskSlots,
  expiredIdempotencyKeys,
  retention,
  usageDaysFold,
]

import { checkIdempotencyKey } from '../api/idempotent-create.js'
import type { ServiceDeps } from '../deps.js'
import { CENTS_PER_TASK, centsToUsd } from '../spend/money.js'
import { spentOn } from '../spend/spend.repository.js'
import { utcDay } from '../spend/utc-days.js'
import type { BatchDryRunResource, CreateBatchInput } from './batches.schemas.js'
import { checkUrls, itemCaptions } from './batches.service.js'

/**
 * POST /batches with `dryRun: true`: the checks, reuse lookup and budget arithmetic of the real request,
 * run on the pool outside any transaction, so that nothing is written, held or sent. The quote holds as
 * of now: captions finished or started before the batch is posted change it.
 */
export async function quoteBatch(
  deps: ServiceDeps,
  request: { input: CreateBatchInput; caller: string; idempotencyKey?: string | undefined },
): Promise<BatchDryRunResource> {
  const { input, caller } = request
  // A malformed key is refused as it would be; a good one is not recorded (there is nothing to replay).
  checkIdempotencyKey(request.idempotencyKey)
  checkUrls(deps, input)
  const now = deps.clock.now()
  const captions = await itemCaptions(deps, deps.sql, { input, caller, batchId: deps.newId(), now })
  const reused = captions.filter((caption) => caption.start.kind === 'reuse').length
  // Later items of an image (and style) wait for its first one and take its text: only the first is a new task.
  const newTasks = captions.filter((caption) => caption.start.kind === 'wait').length
  const heldCents = captions.reduce((cents, caption) => cents + caption.reservedCents, 0)
  const budgetCents = deps.budgets.get(caller)
  let budget: BatchDryRunResource['budget'] = null
  if (budgetCents !== undefined) {
    const spentCents = await spentOn(deps.sql, caller, utcDay(now))
    budget = {
      limitUsd: centsToUsd(budgetCents),
      spentUsd: centsToUsd(spentCents),
      remainingUsd: centsToUsd(Math.max(0, budgetCents - spentCents)),
      // holdFor's rule: work that holds nothing always fits; reaching the budget exactly is allowed.
      fits: heldCents <= 0 || spentCents + heldCents <= budgetCents,
    }
  }
  return {
    dryRun: true,
    items: input.items.length,
    captions: captions.length,
    newTasks,
    reused,
    costUsd: centsToUsd(newTasks * CENTS_PER_TASK),
    budget,
  }
}

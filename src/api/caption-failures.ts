/** Why a caption failed: the `error` a finished caption carries, `{ code, message }`. */
export interface CaptionFailure {
  code: string
  message: string
}

/** Every code a caption can fail with, and its message. */
export const captionFailures = {
  /** GoAPI refused the task for good (bad input, key, credits or plan). */
  goapiRejected: (httpStatus: number, reason: string): CaptionFailure => ({
    code: 'goapi_rejected',
    message: `GoAPI refused the task (HTTP ${httpStatus}): ${reason}`,
  }),
  /** GoAPI ran the task and reports it failed, in its own words. */
  goapiTaskFailed: (reason: string): CaptionFailure => ({ code: 'goapi_task_failed', message: reason }),
  goapiEmptyOutput: (): CaptionFailure => ({
    code: 'goapi_empty_output',
    message: 'GoAPI reported the task completed but sent no caption text',
  }),
  /**
   * GoAPI answered not_found for the caption's task on two polls in a row. The task id came from
   * GoAPI, so GoAPI has purged or lost the task and it will never finish; sending the caption again
   * would pay twice.
   */
  goapiTaskNotFound: (taskId: string): CaptionFailure => ({
    code: 'goapi_task_not_found',
    message: `GoAPI no longer knows task ${taskId}: it was purged or lost and will not finish; the caption was not sent again, so it is not paid twice`,
  }),
  /** No final answer from GoAPI before the caption's deadline. */
  timeout: (deadlineMs: number): CaptionFailure => ({
    code: 'timeout',
    message: `GoAPI gave no final answer within ${Math.round(deadlineMs / 1000)} seconds`,
  }),
} as const

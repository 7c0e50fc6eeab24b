/**
 * The wake-up lane: work done at once when something became due (a caption finished: its callback, its
 * GoAPI task slot), beside the regular rounds rather than after them. One pass at a time; wake-ups that
 * come during a pass make it go again once it ends, so none is lost and none runs twice at once.
 */
export interface WakeLane {
  /** Asks for a pass; `slots`: the pass also gives free GoAPI task slots to waiting captions. */
  wake(slots: boolean): void
}

export function createWakeLane(
  pass: (slots: boolean) => Promise<void>,
  options: { stopped: () => boolean; track: (lane: Promise<void>) => void },
): WakeLane {
  let lane: Promise<void> | undefined
  let wokenDuringLane = false
  let slotsWanted = false

  return {
    wake(slots) {
      if (slots) slotsWanted = true
      if (lane !== undefined) {
        wokenDuringLane = true
        return
      }
      const current = (async () => {
        do {
          wokenDuringLane = false
          const withSlots = slotsWanted
          slotsWanted = false
          await pass(withSlots)
        } while (wokenDuringLane && !options.stopped())
      })()
      lane = current
      options.track(current)
      void current.finally(() => {
        lane = undefined
      })
    },
  }
}

import type { GoapiSimulator, SimulatedTask } from '../../src/goapi-simulator/simulator.js'

/** The GoAPI tasks (each one paid for) made for a caption, found by the caption's webhook secret. */
export function tasksFor(simulator: GoapiSimulator, captionId: string): SimulatedTask[] {
  return [...simulator.tasks.values()].filter((entry) =>
    entry.task.config.webhook_config.secret.startsWith(`${captionId}.`),
  )
}

/**
 * Explicit steps with compensations, after Medusa v2's `createStep`/`createWorkflow`: each
 * step is an `invoke` and, when its effect can outlive a later failure, a `compensate`
 * given what `invoke` returned. When a step throws, the steps already done are compensated
 * in reverse order, then the step's error goes on to the caller.
 */
export interface Step<Ctx> {
  name: string
  invoke(ctx: Ctx): Promise<unknown>
  /** Omitted when nothing of the step outlives a failure (its writes roll back with the transaction). */
  compensate?(ctx: Ctx, output: unknown): Promise<void>
}

export const step = <Ctx, Out>(name: string, invoke: (ctx: Ctx) => Promise<Out>, compensate?: (ctx: Ctx, output: Out) => Promise<void>): Step<Ctx> => ({
  name,
  invoke,
  compensate: compensate as Step<Ctx>['compensate'],
})

/** A compensation that fails leaves something for an operator: it is reported, and the others still run. */
export type CompensationFailed = (step: string, error: unknown) => void

/** Runs the steps in order over one context; on failure compensates what was done, newest first. */
export async function runWorkflow<Ctx>(ctx: Ctx, steps: Step<Ctx>[], onCompensationFailed: CompensationFailed = () => undefined): Promise<void> {
  const done: { step: Step<Ctx>; output: unknown }[] = []
  for (const current of steps) {
    try {
      done.push({ step: current, output: await current.invoke(ctx) })
    } catch (error) {
      for (const { step: earlier, output } of done.reverse()) {
        await earlier.compensate?.(ctx, output).catch((e) => onCompensationFailed(earlier.name, e))
      }
      throw error
    }
  }
}

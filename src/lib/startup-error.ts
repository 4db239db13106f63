/** One thing an operator must change before the service can start: which setting, and what is wrong with it. */
export interface StartupProblem {
  setting: string
  problem: string
}

/**
 * A start-up failure the operator can act on. `src/main.ts` prints one log line per problem,
 * without a stack trace, and exits non-zero; the message carries the same for other callers.
 */
export class StartupError extends Error {
  constructor(
    readonly problems: StartupProblem[],
    message = problems.map((p) => `${p.setting}: ${p.problem}`).join('; '),
  ) {
    super(message)
    this.name = 'StartupError'
  }
}

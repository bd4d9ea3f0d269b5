/**
 * The one error the parity runner reports for "cannot run": a model that does not load, an input that
 * does not fit, a script that dies. The CLI prints its message on one line and exits 2; the panel shows
 * it as the run's result. Comparisons that merely fail are results, never errors.
 */
export class ParityError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'ParityError';
  }
}

/** A run stopped by its caller (the panel's Cancel, an aborted signal). */
export class ParityCancelled extends ParityError {
  constructor() {
    super('the parity run was cancelled');
    this.name = 'ParityCancelled';
  }
}

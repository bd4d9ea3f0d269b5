/**
 * `break` and `continue`. Each is thrown through the statements of a loop body to the `for` that runs
 * it. Under a condition nothing decides, the loop may or may not exit there: what follows runs under
 * the negation — the rest of the iteration for `continue`, the rest of the loop (and its `else:`) for
 * `break` — so what it registers is conditional, never certain and never dropped.
 */
import { negate } from './alternatives';

export class LoopExit {
  constructor(readonly kind: 'break' | 'continue') {}
}

/** One running `for`: the conditions its undecided exits put in force, removed when they end. */
export class LoopFrame {
  /** Conditions in force until the current iteration ends (after an undecided `continue`). */
  readonly iteration: string[] = [];
  /** Conditions in force until the loop ends (after an undecided `break`). */
  readonly rest: string[] = [];
  broke = false;

  constructor(private readonly conds: string[]) {}

  /** An undecided branch under `cond` exited the loop body; the other branch went on. */
  exitedUnder(kind: LoopExit['kind'], cond: string): void {
    const not = negate([cond]);
    (kind === 'continue' ? this.iteration : this.rest).push(not);
    this.conds.push(not);
  }

  endIteration(): void {
    this.drop(this.iteration);
  }

  endLoop(): void {
    this.drop(this.iteration);
    this.drop(this.rest);
  }

  /** Removes these conditions from the stack, each at its last place (a pending `return`'s may lie above). */
  private drop(list: string[]): void {
    for (const c of list.splice(0).reverse()) {
      const i = this.conds.lastIndexOf(c);
      if (i >= 0) this.conds.splice(i, 1);
    }
  }
}

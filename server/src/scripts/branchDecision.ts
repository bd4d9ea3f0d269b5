/**
 * Which `if` branches of a conversion script this port takes, as its checkpoints say: the branch whose
 * pairs fit the most (both keys exist) is taken; its siblings are not, and their pairs — which name
 * keys of another variant of the model — are not this port's. An `if` none of whose branches has a
 * fitting pair is undecided: its pairs are checked as usual.
 */
import { Branch } from './keyLiterals';

export type BranchState = 'taken' | 'not-taken' | 'undecided';

export interface Vote { conditions: readonly Branch[]; fits: boolean }

export function decideBranches(votes: readonly Vote[]): (conditions: readonly Branch[] | undefined) => BranchState {
  const scores = new Map<number, Map<number, number>>();
  for (const v of votes) {
    for (const c of v.conditions) {
      const byBranch = scores.get(c.node) ?? new Map<number, number>();
      scores.set(c.node, byBranch);
      byBranch.set(c.branch, (byBranch.get(c.branch) ?? 0) + (v.fits ? 1 : 0));
    }
  }
  const taken = new Map<number, Set<number>>();
  for (const [node, byBranch] of scores) {
    const best = Math.max(...byBranch.values());
    if (best > 0) taken.set(node, new Set([...byBranch].filter(([, s]) => s === best).map(([b]) => b)));
  }
  return (conditions) => {
    let state: BranchState = 'taken';
    for (const c of conditions ?? []) {
      const t = taken.get(c.node);
      if (!t) state = 'undecided';
      else if (!t.has(c.branch)) return 'not-taken';
    }
    return state;
  };
}

/** One rule the auto-mapper proposes, as the passes that refine it (rotary, per-head) and the writer see it. */
export interface ProposedRule {
  /** One key, or the keys a `cat` fuses, in order. */
  sources: string[];
  target: string;
  transforms: string[];
  /** 0…1, from the score margin over the best alternative pairing. */
  confidence: number;
  /** Why the rule looks the way it does, written as a comment beside it (the rotary permutation, a per-head split). */
  note?: string;
}

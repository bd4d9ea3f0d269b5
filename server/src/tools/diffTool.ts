/** `diff`: two checkpoints compared by key (only in one, dtype or shape changed). */
import { readCheckpoint } from '../formats/readCheckpoint';
import { CheckpointDiff, diffCheckpoints } from '../index/diff';

export interface DiffInput { a: string; b: string }
export type DiffJson = { a: string; b: string } & CheckpointDiff;

/** The `diff --json` document: the paths as given, then the diff. */
export async function diffJson(input: DiffInput): Promise<DiffJson> {
  const [ia, ib] = await Promise.all([readCheckpoint(input.a), readCheckpoint(input.b)]);
  return { a: input.a, b: input.b, ...diffCheckpoints(ia, ib) };
}

export const differs = (d: CheckpointDiff): boolean => d.changed.length > 0 || d.onlyInA.length > 0 || d.onlyInB.length > 0;

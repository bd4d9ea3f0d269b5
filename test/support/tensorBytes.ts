/** Test support: every tensor's stored bytes by key, and a byte-for-byte comparison of two checkpoints. */
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { readCheckpoint } from '../../server/src/formats/readCheckpoint';

export async function tensorBytes(file: string): Promise<Map<string, Buffer>> {
  const info = await readCheckpoint(file);
  const bytes = readFileSync(file);
  return new Map(info.tensors.map((t) => [t.key, bytes.subarray(t.location!.offset, t.location!.offset + t.location!.length)]));
}

/** `got` holds every tensor of `want` with the same bytes (and no other tensor). */
export async function assertSameTensors(got: string, want: string): Promise<void> {
  const [a, b] = [await tensorBytes(got), await tensorBytes(want)];
  assert.deepEqual([...a.keys()].sort(), [...b.keys()].sort());
  for (const [key, bytes] of b) assert.ok(a.get(key)?.equals(bytes), `${key} differs`);
}

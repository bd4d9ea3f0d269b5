/**
 * Child of loaders.bench.ts: one readCheckpoint in a process that has read nothing yet (modules loaded,
 * nothing warmed: cold JIT, no file handle reused), as the first `keys` or the server's first open meets
 * it. Prints the tensor count and the milliseconds of that read alone.
 * Run: node --import tsx test/bench/firstRead.ts FILE
 */
import { readCheckpoint } from '../../server/src/formats/readCheckpoint';

async function main(): Promise<void> {
  const file = process.argv[2];
  const t = performance.now();
  const info = await readCheckpoint(file);
  console.log(info.tensors.length, (performance.now() - t).toFixed(2));
}

void main();

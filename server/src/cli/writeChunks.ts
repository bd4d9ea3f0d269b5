/**
 * Chunks to a stream, waiting for it to drain whenever it asks: into a pipe whose reader is slower than
 * the chunks are made, the process holds one chunk rather than queueing the whole output (measured with
 * `keys --json` of 100,000 tensors into `cat`: 155–175 MiB peak without waiting, docs/benchmarks.md).
 */
import { once } from 'node:events';

export async function writeChunks(out: NodeJS.WritableStream, chunks: Iterable<string>): Promise<void> {
  for (const chunk of chunks) {
    if (!out.write(chunk)) await once(out, 'drain');
  }
}

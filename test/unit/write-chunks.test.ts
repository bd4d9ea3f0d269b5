/**
 * Output into a slow reader (cli/writeChunks.ts): the writer waits whenever the stream asks, so what
 * waits in the process stays about one chunk, and every chunk arrives in order. The same stream written
 * without waiting queues the whole output — what `keys --json` into a pipe did.
 */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { Writable } from 'node:stream';
import { keysJsonChunks } from '../../server/src/cli/keysJson';
import { writeChunks } from '../../server/src/cli/writeChunks';
import { CheckpointInfo } from '../../server/src/formats/tensorInfo';

function slowReader(): { out: Writable; got: string[]; most: () => number } {
  const got: string[] = [];
  let most = 0;
  const out = new Writable({
    highWaterMark: 1 << 16,
    write(chunk: Buffer, _enc, done) {
      got.push(chunk.toString());
      setTimeout(done, 1);
    },
  });
  const write = out.write.bind(out);
  out.write = ((chunk: string) => {
    const ok = write(chunk);
    most = Math.max(most, out.writableLength);
    return ok;
  }) as typeof out.write;
  return { out, got, most: () => most };
}

const info: CheckpointInfo = {
  file: 'many.safetensors', format: 'safetensors', notes: [],
  tensors: Array.from({ length: 20_000 }, (_, i) => ({ key: `model.layers.${i >> 6}.mlp.w${i & 63}.weight`, dtype: 'F32', shape: [16, 16], location: { file: 'many.safetensors', offset: i * 1024, length: 1024 } })),
};

test('chunks into a slow reader wait for it: about one chunk is held, all arrive in order', async () => {
  const chunks = [...keysJsonChunks(info)];
  assert.ok(chunks.length > 10, `${chunks.length} chunks`);
  const r = slowReader();
  await writeChunks(r.out, chunks);
  assert.equal(r.got.join(''), chunks.join(''));
  assert.ok(r.most() <= 2 * (1 << 16) + 1024, `at most ${r.most()} bytes waited`);
  assert.equal(JSON.parse(r.got.join('')).tensors.length, 20_000);
});

test('written without waiting, the same output queues whole in the process', () => {
  const r = slowReader();
  for (const c of keysJsonChunks(info)) r.out.write(c);
  assert.ok(r.most() > 10 * (1 << 16), `only ${r.most()} bytes queued`);
});

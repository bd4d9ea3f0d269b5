/**
 * Property tests over every reader and the mapping parser and analysis: real fixtures with random
 * bytes flipped, cut short or spliced in. Whatever the bytes, a read either succeeds or fails with a
 * ReaderError naming the file — no other exception, no read over a second (its time limit), no read
 * pulling in more than 64 MiB (its byte budget), the process never above 1 GiB — and a mapping is
 * analysed without throwing, in under a second.
 * TENSORPORT_FUZZ_RUNS raises the number of inputs for a long local run (CI uses the default).
 */
import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import * as path from 'node:path';
import { test } from 'node:test';
import fc from 'fast-check';
import { readCheckpoint } from '../../server/src/formats/readCheckpoint';
import { ReaderError } from '../../server/src/formats/readerError';
import { CheckpointIndex } from '../../server/src/index/checkpointIndex';
import { findCheckpoints } from '../../server/src/index/findFiles';
import { analyzeMapping } from '../../server/src/mapping/analyze';
import { parseMapping } from '../../server/src/mapping/parse';
import { loadSides } from '../../server/src/mapping/sides';
import { STRUCTURED } from '../hostile/structured';
import { EXAMPLES, FIXTURES, scratchDir } from '../support/tmp';

const tmp = scratchDir('fuzz');
const RUNS = Number(process.env.TENSORPORT_FUZZ_RUNS ?? 40);
/** Inputs per reader from the structure-aware generators; `npm run fuzz` makes it 100,000. */
const STRUCTURED_RUNS = Number(process.env.TENSORPORT_FUZZ_STRUCTURED ?? 3000);
/** Where a failing input is kept, to become a hostile corpus case. */
const FOUND = path.join(__dirname, '..', 'hostile', 'found');

const mutation = fc.oneof(
  fc.record({ kind: fc.constant('flip' as const), at: fc.nat(), byte: fc.integer({ min: 0, max: 255 }) }),
  fc.record({ kind: fc.constant('cut' as const), at: fc.nat() }),
  fc.record({ kind: fc.constant('splice' as const), at: fc.nat(), bytes: fc.uint8Array({ minLength: 1, maxLength: 16 }) }),
);

type Mutation = { kind: 'flip' | 'cut' | 'splice'; at: number; byte?: number; bytes?: Uint8Array };

function mutate(original: Buffer, ms: Mutation[]): Buffer {
  let b = Buffer.from(original);
  for (const m of ms) {
    const at = b.length === 0 ? 0 : m.at % b.length;
    if (m.kind === 'flip' && b.length) b[at] = m.byte!;
    else if (m.kind === 'cut') b = b.subarray(0, at);
    else if (m.kind === 'splice') b = Buffer.concat([b.subarray(0, at), Buffer.from(m.bytes!), b.subarray(at)]);
  }
  return b;
}

test('no mutated checkpoint makes a reader throw anything but a ReaderError, hang, or take unbounded memory', async (t) => {
  const files = (await findCheckpoints(FIXTURES)).filter((f) => !f.endsWith('.json'));
  assert.ok(files.length >= 5, `expected fixtures of every format, found ${files.length}`);
  let peakRss = 0;
  for (const file of files) {
    await t.test(path.relative(FIXTURES, file), async () => {
      const original = readFileSync(file);
      let n = 0;
      await fc.assert(fc.asyncProperty(fc.array(mutation, { minLength: 1, maxLength: 4 }), async (ms) => {
        const target = tmp.file(`m${n++}${path.extname(file)}`, mutate(original, ms));
        const t0 = Date.now();
        try {
          await readCheckpoint(target, { timeoutMs: 1000, maxHeaderBytes: 64 * 2 ** 20 });
        } catch (e) {
          assert.ok(e instanceof ReaderError, `${String(e)}\n${(e as Error).stack}`);
          assert.equal(e.internal, false, `an internal error, dressed as a reader error: ${e.reason}`);
          assert.doesNotMatch(e.reason, /took longer than/);
          assert.ok(e.message.startsWith(target));
        }
        assert.ok(Date.now() - t0 < 1000, `read in under a second (took ${Date.now() - t0} ms)`);
        peakRss = Math.max(peakRss, process.memoryUsage.rss());
      }), { numRuns: RUNS, seed: 20261126 });
    });
  }
  assert.ok(peakRss < 2 ** 30, `peak RSS ${Math.round(peakRss / 2 ** 20)} MiB`);
});

test('no mutated mapping makes the parser or the analysis throw, or take over a second', async () => {
  const dir = path.join(EXAMPLES, 'bert-to-paddlenlp');
  const original = readFileSync(path.join(dir, 'bad.tpmap'));
  const index = new CheckpointIndex();
  let inputs = 0;
  await fc.assert(fc.asyncProperty(fc.array(mutation, { minLength: 1, maxLength: 6 }), async (ms) => {
    inputs++;
    const text = mutate(original, ms).toString('utf8');
    const t0 = Date.now();
    const file = parseMapping(text);
    const sides = await loadSides(path.join(dir, 'fuzz.tpmap'), file, index);
    analyzeMapping(file, sides);
    assert.ok(Date.now() - t0 < 1000, 'under a second');
  }), { numRuns: RUNS * 5, seed: 20261126 });
  assert.ok(inputs >= RUNS * 5);
});

for (const [reader, arb] of Object.entries(STRUCTURED)) {
  test(`structure-aware ${reader} inputs (${STRUCTURED_RUNS}): a listing or one non-internal ReaderError, within a second`, { timeout: 3_600_000 }, async () => {
    let n = 0;
    let refused = 0;
    await fc.assert(fc.asyncProperty(arb, async ({ bytes, ext }) => {
      const target = tmp.file(`s${reader}${ext}`, bytes);
      const t0 = Date.now();
      try {
        await readCheckpoint(target, { timeoutMs: 1000, maxHeaderBytes: 64 * 2 ** 20 });
      } catch (e) {
        refused++;
        if (!(e instanceof ReaderError) || e.internal || /took longer than/.test(e.reason)) keep(reader, ext, bytes);
        assert.ok(e instanceof ReaderError, `${String(e)}\n${(e as Error).stack}`);
        assert.equal(e.internal, false, `an internal error: ${e.reason}`);
        assert.doesNotMatch(e.reason, /took longer than/);
      }
      if (Date.now() - t0 >= 1000) keep(reader, ext, bytes);
      assert.ok(Date.now() - t0 < 1000, `read in under a second (took ${Date.now() - t0} ms)`);
      n++;
    }), { numRuns: STRUCTURED_RUNS, seed: 20261201 });
    // The generators must reach past the first checks: some inputs list, many are refused for deep reasons.
    assert.equal(n, STRUCTURED_RUNS);
    assert.ok(refused < n, `every ${reader} input was refused: the generator never gets past the first checks`);
  });
}

function keep(reader: string, ext: string, bytes: Buffer): void {
  mkdirSync(FOUND, { recursive: true });
  writeFileSync(path.join(FOUND, `${reader}-${createHash('sha1').update(bytes).digest('hex').slice(0, 12)}${ext}`), bytes);
}

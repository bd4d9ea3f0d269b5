/**
 * The editor's incremental path — re-parse only edited lines, reuse cached rule results, update
 * read/write counts by difference — must give exactly the diagnostics of a from-scratch analysis,
 * whatever sequence of edits (rules added, removed, duplicated, broken) the user makes.
 */
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import * as path from 'node:path';
import { test } from 'node:test';
import fc from 'fast-check';
import { CheckpointIndex } from '../../server/src/index/checkpointIndex';
import { RuleCache, analyzeMapping } from '../../server/src/mapping/analyze';
import { parseMapping } from '../../server/src/mapping/parse';
import { reparse } from '../../server/src/mapping/reparse';
import { loadSides } from '../../server/src/mapping/sides';
import { EXAMPLES } from '../support/tmp';

const DIR = path.join(EXAMPLES, 'bert-to-paddlenlp');
const LINES = [...new Set([...readFileSync(path.join(DIR, 'good.tpmap'), 'utf8').split('\n'), ...readFileSync(path.join(DIR, 'bad.tpmap'), 'utf8').split('\n')])]
  .filter((l) => l.includes('->'));
const HEADER = 'source hf_bert_tiny.safetensors\ntarget paddlenlp_bert_tiny.pdparams\n';

test('incremental analysis equals a fresh analysis after any sequence of edits', async () => {
  const index = new CheckpointIndex();
  const sides = await loadSides(path.join(DIR, 'x.tpmap'), parseMapping(HEADER), index);
  const edit = fc.oneof(
    fc.record({ kind: fc.constant('insert' as const), at: fc.nat(), line: fc.constantFrom(...LINES) }),
    fc.record({ kind: fc.constant('delete' as const), at: fc.nat() }),
    fc.record({ kind: fc.constant('break' as const), at: fc.nat() }),
  );
  await fc.assert(fc.asyncProperty(fc.array(fc.constantFrom(...LINES), { maxLength: 20 }), fc.array(edit, { minLength: 1, maxLength: 8 }), async (start, edits) => {
    let lines = [...start];
    let tree = parseMapping(HEADER + lines.join('\n'));
    const cache = new RuleCache();
    analyzeMapping(tree, sides, cache);
    for (const e of edits) {
      const i = lines.length ? e.at % lines.length : 0;
      if (e.kind === 'insert') lines.splice(e.at % (lines.length + 1), 0, e.line);
      else if (e.kind === 'delete') lines.splice(i, 1);
      else if (lines.length) lines[i] = lines[i].replace('->', '- >');
      lines = [...lines];
      const text = HEADER + lines.join('\n');
      tree = reparse(tree, text);
      const incremental = analyzeMapping(tree, sides, cache).diagnostics;
      const fresh = analyzeMapping(parseMapping(text), sides).diagnostics;
      assert.deepEqual(JSON.parse(JSON.stringify(incremental)), JSON.parse(JSON.stringify(fresh)));
    }
  }), { numRuns: 60, seed: 42 });
});

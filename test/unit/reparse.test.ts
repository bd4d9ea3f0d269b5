/** The incremental parse gives exactly the tree a full parse gives, whatever the edit. */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import fc from 'fast-check';
import { parseMapping } from '../../server/src/mapping/parse';
import { reparse } from '../../server/src/mapping/reparse';

const LINES = [
  'source a.safetensors', 'target "b c.pdparams"::Model', 'set hidden = 8', 'framework target paddle', '# a comment', '',
  'encoder.layer.{i}.attention.query.weight -> blocks.{i}.attn.q.weight | transpose',
  '[x.{i}.k.weight, x.{i}.v.weight] -> y.{i}.kv.weight | cat(0) | transpose  # fused',
  'pooler.* -> drop', 'half.typed.', 'a -> b | chunk(3, 1', 'emb.weight -> emb.weight | cast(F16)',
];

const edit = fc.record({ at: fc.nat(), del: fc.nat({ max: 40 }), ins: fc.oneof(fc.constantFrom('\n', ' ', '.', '->', '| transpose', '{i}', '#', '"', '[', ']', 'x'), fc.string({ maxLength: 12 })) });

test('reparse after any sequence of edits equals a full parse', () => {
  fc.assert(fc.property(fc.array(fc.constantFrom(...LINES), { minLength: 1, maxLength: 12 }), fc.array(edit, { minLength: 1, maxLength: 6 }), (lines, edits) => {
    let text = lines.join('\n');
    let tree = parseMapping(text);
    for (const e of edits) {
      const at = e.at % (text.length + 1);
      text = text.slice(0, at) + e.ins + text.slice(Math.min(text.length, at + e.del));
      tree = reparse(tree, text);
      assert.deepEqual(JSON.parse(JSON.stringify(tree)), JSON.parse(JSON.stringify(parseMapping(text))));
    }
  }), { numRuns: 400, seed: 7 });
});

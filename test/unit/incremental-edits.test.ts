/**
 * The editor's path through a document's life — MappingDocuments re-parsing only the edited lines,
 * reloading the sides, reusing cached rule results and updating read/write counts by difference — must
 * publish exactly what a from-scratch analysis of the same text publishes (fresh parse, fresh rule cache,
 * sides read by another index), after every edit. The documents are the real mappings of the fixtures
 * (worked examples, ports onto model source, parity ports); the edits are random character ranges
 * replaced by pieces of mappings: whole rules from any fixture, header lines (`set`, `framework`,
 * `source`), fragments that split or join lines, and plain deletions.
 */
import assert from 'node:assert/strict';
import { readFileSync, readdirSync, statSync } from 'node:fs';
import * as path from 'node:path';
import { test } from 'node:test';
import { pathToFileURL } from 'node:url';
import fc from 'fast-check';
import { CheckpointIndex } from '../../server/src/index/checkpointIndex';
import { MappingDocuments } from '../../server/src/lsp/mappingDocuments';
import { toDiagnostic } from '../../server/src/lsp/toProtocol';
import { analyzeMapping } from '../../server/src/mapping/analyze';
import { parseMapping } from '../../server/src/mapping/parse';
import { loadSides } from '../../server/src/mapping/sides';
import { FIXTURES } from '../support/tmp';

function mappingsUnder(dir: string): string[] {
  return readdirSync(dir).flatMap((name) => {
    const p = path.join(dir, name);
    return statSync(p).isDirectory() ? mappingsUnder(p) : name.endsWith('.tpmap') ? [p] : [];
  });
}

const MAPPINGS = ['examples', 'ports', 'parity'].flatMap((d) => mappingsUnder(path.join(FIXTURES, d))).sort();
const TEXTS = new Map(MAPPINGS.map((m) => [m, readFileSync(m, 'utf8')]));
const LINES = [...new Set([...TEXTS.values()].flatMap((t) => t.split('\n')).filter((l) => l.trim()))];
const PIECES = [
  ...LINES.map((l) => `${l}\n`),
  '', '\n', '->', ' -> ', ' | transpose', ' | cat(0)', '{i}', '.weight', '*', 'drop', '#', '[', ']', 'x',
  'set num_heads = 2\n', 'set heads = 8\n', 'framework target paddle\n', 'framework source torch\n', 'source nowhere.safetensors\n',
];

test('the fixtures hold enough real mappings to edit', () => {
  assert.ok(MAPPINGS.length >= 10, MAPPINGS.join(', '));
});

for (const mapping of MAPPINGS) {
  test(`incremental diagnostics equal a fresh analysis after every edit: ${path.relative(FIXTURES, mapping)}`, async () => {
    const freshIndex = new CheckpointIndex();
    const edit = fc.record({ at: fc.nat(), remove: fc.oneof(fc.constant(0), fc.nat(8), fc.nat(80)), insert: fc.constantFrom(...PIECES) });
    await fc.assert(fc.asyncProperty(fc.array(edit, { minLength: 1, maxLength: 8 }), async (edits) => {
      const docs = new MappingDocuments(new CheckpointIndex());
      const uri = pathToFileURL(mapping).toString();
      let text = TEXTS.get(mapping)!;
      let version = 1;
      await docs.update(uri, mapping, version, text);
      for (const e of edits) {
        const at = e.at % (text.length + 1);
        text = text.slice(0, at) + e.insert + text.slice(Math.min(text.length, at + e.remove));
        const state = await docs.update(uri, mapping, ++version, text);
        assert.ok(state, 'no newer version overtook this one');
        const file = parseMapping(text);
        const fresh = analyzeMapping(file, await loadSides(mapping, file, freshIndex));
        assert.deepEqual(json(state.analysis.diagnostics), json(fresh.diagnostics), `after edits ${JSON.stringify(edits)}`);
        assert.deepEqual(json(state.analysis.models), json(fresh.models));
        // What the client receives: the same ranges, so the re-parsed line index agrees with a fresh one.
        assert.deepEqual(state.analysis.diagnostics.map((d) => toDiagnostic(state.file, uri, d)), fresh.diagnostics.map((d) => toDiagnostic(file, uri, d)));
      }
    }), { numRuns: 12, seed: 33 });
  });
}

const json = (x: unknown): unknown => JSON.parse(JSON.stringify(x));

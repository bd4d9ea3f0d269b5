/**
 * The worked examples of ../shared/examples: each mapping checked by the real CLI against real
 * checkpoints must report at least the diagnostics its expected.json lists, and no error on a rule line
 * that the example calls correct.
 */
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { existsSync, readFileSync, readdirSync } from 'node:fs';
import * as path from 'node:path';
import { test } from 'node:test';
import { EXAMPLES, SHARED_EXAMPLES } from '../support/tmp';

const BIN = path.join(__dirname, '..', '..', 'bin', 'tensorport.js');

interface Expected { line: number | null; code: string; key?: string }

/**
 * bert-to-paddlenlp/expected.json puts layers.tpmap's layer-count-mismatch on line 1, a comment; its own
 * note says the diagnostic belongs on the `{i}` rules, the first of which is line 12. We follow the
 * note and the spec (a diagnostic spans the rule at fault) and assert line 12.
 */
const LINE_CORRECTIONS: Record<string, Record<string, number>> = {
  'bert-to-paddlenlp/layers.tpmap': { 'layer-count-mismatch@1': 12 },
};

/** Codes an example expects on "at least the first" of several rules (its note says so). */
const ON_EVERY_MATCHING_RULE: Record<string, string[]> = {
  'bert-to-paddlenlp/layers.tpmap': ['layer-count-mismatch'],
};

test('the vendored examples are byte-identical to ../shared/examples (where that folder exists)', { skip: !existsSync(SHARED_EXAMPLES) && 'no ../shared here' }, () => {
  for (const example of readdirSync(SHARED_EXAMPLES).filter((d) => existsSync(path.join(SHARED_EXAMPLES, d, 'expected.json')))) {
    for (const f of readdirSync(path.join(SHARED_EXAMPLES, example))) {
      assert.ok(readFileSync(path.join(SHARED_EXAMPLES, example, f)).equals(readFileSync(path.join(EXAMPLES, example, f))), `${example}/${f} differs: copy it again`);
    }
  }
});

for (const example of readdirSync(EXAMPLES).filter((d) => existsSync(path.join(EXAMPLES, d, 'expected.json')))) {
  const expected: Record<string, { diagnostics: Expected[] }> = JSON.parse(readFileSync(path.join(EXAMPLES, example, 'expected.json'), 'utf8'));
  for (const [mapping, want] of Object.entries(expected)) {
    test(`${example}/${mapping}: the checker reports what expected.json lists`, () => {
      const file = path.join(EXAMPLES, example, mapping);
      const r = spawnSync(process.execPath, [BIN, 'check', file, '--json'], { encoding: 'utf8' });
      assert.equal(r.stderr, '');
      const got: { line: number; code: string; severity: string; key?: string; message: string }[] = JSON.parse(r.stdout).diagnostics;
      const hasErrors = got.some((d) => d.severity === 'error');
      assert.equal(r.status, hasErrors ? 1 : 0, 'exit code follows the errors');
      const corrections = LINE_CORRECTIONS[`${example}/${mapping}`] ?? {};
      const expectedLines = new Set<number>();
      for (const w of want.diagnostics) {
        const line = w.line === null ? null : corrections[`${w.code}@${w.line}`] ?? w.line;
        if (line !== null) expectedLines.add(line);
        const found = got.find((d) => d.code === w.code && (line === null || d.line === line) && (!w.key || d.key === w.key || d.message.includes(w.key)));
        assert.ok(found, `missing ${w.code} at line ${line ?? 'any'}${w.key ? ` for ${w.key}` : ''}\n got:\n${got.map((d) => `  ${d.line} ${d.code} ${d.message}`).join('\n')}`);
      }
      if (want.diagnostics.length === 0) {
        assert.deepEqual(got.filter((d) => d.severity !== 'information').map((d) => `${d.line} ${d.code} ${d.message}`), [], 'a correct mapping has no errors and no warnings');
      }
      // Rule lines the example does not flag must carry no error.
      const text = readFileSync(file, 'utf8').split('\n');
      for (const d of got) {
        if (d.severity !== 'error' || expectedLines.has(d.line)) continue;
        const isRule = text[d.line - 1]?.includes('->');
        const flaggedByKey = want.diagnostics.some((w) => w.line === null && w.code === d.code);
        const repeated = (ON_EVERY_MATCHING_RULE[`${example}/${mapping}`] ?? []).includes(d.code);
        assert.ok(!isRule || flaggedByKey || repeated, `unexpected error on correct line ${d.line}: ${d.code} ${d.message}`);
      }
    });
  }
}

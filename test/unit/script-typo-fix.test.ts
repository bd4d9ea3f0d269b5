/**
 * "Replace with the suggestion" for a mistyped key in a conversion script (keyTypoFix.ts): the edit
 * covers only the key text that differs inside the literal — never a placeholder, a prefix variable or
 * a quote — and none is offered where the suggestion or the place to edit is ambiguous.
 */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { typoFix } from '../../server/src/scripts/keyTypoFix';

/** The script line with the literal on it, fixed (or undefined when no fix is offered). */
function fixed(line: string, literal: string, written: string, suggestions: string[]): string | undefined {
  const column = line.indexOf(literal);
  assert.ok(column >= 0);
  const f = typoFix(line, { line: 0, column, endLine: 0, endColumn: column + literal.length }, written, suggestions);
  if (!f) return undefined;
  assert.equal(f.edits.length, 1);
  const e = f.edits[0];
  assert.equal(f.title, `Replace with \`${suggestions[0]}\``, 'the closest suggestion, listed first');
  return line.slice(0, e.column) + e.newText + line.slice(e.endColumn);
}

test('an f-string: only the mistyped segment changes, the placeholder stays', () => {
  const line = '    rename_keys.append((f"blocks.{i}.mlp.fc2.bais", f"vit.encoder.layer.{i}.output.dense.bias"))';
  assert.equal(fixed(line, 'f"blocks.{i}.mlp.fc2.bais"', 'blocks.{i}.mlp.fc2.bais', ['blocks.{i}.mlp.fc2.bias', 'blocks.{i}.mlp.fc1.bias']),
    line.replace('fc2.bais', 'fc2.bias'));
});

test('a prefix variant and a %-template: the edit lands in the literal text the script wrote', () => {
  const pre = '    state_dict[f"{prefix}encoder.layer.{i}.attention.qeury.weight"] = w';
  assert.equal(fixed(pre, 'f"{prefix}encoder.layer.{i}.attention.qeury.weight"', 'vit.encoder.layer.{i}.attention.qeury.weight', ['vit.encoder.layer.{i}.attention.query.weight']),
    pre.replace('qeury', 'query'));
  const pct = '    ("layers.%d.self_atn.weight" % i, "x")';
  assert.equal(fixed(pct, '"layers.%d.self_atn.weight"', 'layers.{i}.self_atn.weight', ['layers.{i}.self_attn.weight']), pct.replace('self_atn', 'self_attn'));
  const ts = "  [`layers.${i}.fc.wieght`, 'x'],";
  assert.equal(fixed(ts, '`layers.${i}.fc.wieght`', 'layers.{i}.fc.wieght', ['layers.{i}.fc.weight']), ts.replace('wieght', 'weight'));
});

test('no fix where it would be a guess: two suggestions as close, a change reaching a placeholder or the prefix, text that occurs twice', () => {
  assert.equal(fixed('("a.fc3.weight", "x")', '"a.fc3.weight"', 'a.fc3.weight', ['a.fc2.weight', 'a.fc4.weight']), undefined);
  assert.equal(fixed('(f"encoder.{i}.fc.weight", "x")', 'f"encoder.{i}.fc.weight"', 'encoder.{i}.fc.weight', ['encoder.layer.{i}.fc.weight']), undefined);
  assert.equal(fixed('(f"{prefix}encoder.x", "y")', 'f"{prefix}encoder.x"', 'vti.encoder.x', ['vit.encoder.x']), undefined);
  assert.equal(fixed('(f"fc.{i}.fc", "y")', 'f"fc.{i}.fc"', 'fc.{i}.fc', ['fc.{i}.fc1']), undefined);
  assert.equal(fixed('("a.b", "y")', '"a.b"', 'a.b', []), undefined);
});

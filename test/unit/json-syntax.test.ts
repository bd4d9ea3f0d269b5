/**
 * The incremental JSON syntax check (formats/jsonSyntax.ts) against JSON.parse: the same verdict on
 * valid, generated and mutated texts, whatever the piece boundaries; and the safetensors reader
 * refusing a header of NULs after `{` at its first piece.
 */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { JsonSyntax, MAX_JSON_DEPTH } from '../../server/src/formats/jsonSyntax';
import { COMPACT_ENTRY } from '../../server/src/formats/safetensorsScan';

function verdict(bytes: Buffer, piece: number, member?: RegExp): string | undefined {
  const s = new JsonSyntax(member);
  for (let i = 0; i < bytes.length; i += piece) {
    const why = s.feed(bytes.subarray(i, i + piece));
    if (why) return why;
  }
  return s.end();
}

function parses(bytes: Buffer): boolean {
  try {
    JSON.parse(new TextDecoder('utf-8', { fatal: true }).decode(bytes));
    return true;
  } catch {
    return false;
  }
}

const VALID = [
  '{}', '[]', '0', '-0', '1.5e+10', '-12.0E-3', '"a\\u00e9\\n"', 'true', 'false', 'null', ' {"a" : [1, 2, {"b": null}], "c": "d"} ',
  '{"__metadata__":{"format":"pt"},"w":{"dtype":"F32","shape":[2,3],"data_offsets":[0,24]}}      ', '\ufeff{"a":1}', '"é"',
];
const INVALID = [
  '', ' ', '{', '{"a"}', '{"a":}', '{"a":1,}', '[1,]', '01', '-', '1.', '1e', '1e+', '.5', '+1', 'tru', 'nul', 'True', '{a:1}',
  "{'a':1}", '"\\x"', '"\\u12g4"', '"a\nb"', '{"a":1}}', '[1 2]', '{"a":1 "b":2}', '{}\x00', '{\x00}', 'NaN', 'Infinity', '[}', '{]',
];

test('valid JSON is accepted, in any piece size', () => {
  for (const t of VALID) for (const piece of [1, 2, 3, 7, 1024]) assert.equal(verdict(Buffer.from(t), piece), undefined, `${JSON.stringify(t)} in pieces of ${piece}`);
});

test('invalid JSON is refused with the position, in any piece size', () => {
  for (const t of INVALID) {
    for (const piece of [1, 3, 1024]) assert.match(verdict(Buffer.from(t, 'latin1'), piece) ?? 'accepted', /at position \d+/, `${JSON.stringify(t)} in pieces of ${piece}`);
  }
});

test('the same verdict as JSON.parse on mutated headers', () => {
  const base = Buffer.from(JSON.stringify({ __metadata__: { format: 'pt', n: 'x"y' }, 'a.b': { dtype: 'F16', shape: [1, 2], data_offsets: [0, 4] }, c: [true, false, null, -1.5e3] }));
  let seed = 12345;
  const rnd = (n: number) => { seed = (seed * 1103515245 + 12345) & 0x7fffffff; return seed % n; };
  const alphabet = Buffer.from('{}[]:,"\\ 0123456789.eE+-tfnrul\x00\x1f\t\nab');
  for (let k = 0; k < 20_000; k++) {
    const b = Buffer.from(base);
    for (let m = 1 + rnd(3); m > 0; m--) b[rnd(b.length)] = alphabet[rnd(alphabet.length)];
    assert.equal(verdict(b, 1 + rnd(40)) === undefined, parses(b), b.toString('latin1'));
  }
});

test(`nesting deeper than ${MAX_JSON_DEPTH} levels is refused, as the reference implementation does`, () => {
  assert.equal(verdict(Buffer.from(`${'['.repeat(MAX_JSON_DEPTH)}${']'.repeat(MAX_JSON_DEPTH)}`), 64), undefined);
  assert.match(verdict(Buffer.from(`${'['.repeat(MAX_JSON_DEPTH + 1)}${']'.repeat(MAX_JSON_DEPTH + 1)}`), 64) ?? '', /nested deeper than 128/);
});

test('skipping safetensors entries in compact form gives the same verdict and reason, whatever the pieces', () => {
  const entries = Array.from({ length: 40 }, (_, i) => [`layers.${i}.w`, { dtype: i % 2 ? 'F32' : 'BF16', shape: [i, 3], data_offsets: [i, i + 7] }]);
  const base = Buffer.from(JSON.stringify({ __metadata__: { format: 'pt' }, ...Object.fromEntries(entries) }));
  let seed = 777;
  const rnd = (n: number) => { seed = (seed * 1103515245 + 12345) & 0x7fffffff; return seed % n; };
  const alphabet = Buffer.from('{}[]:,"\\ 0123456789.eE+-\x00\tab');
  for (const t of [...VALID, ...INVALID]) assert.equal(verdict(Buffer.from(t, 'latin1'), 5, COMPACT_ENTRY), verdict(Buffer.from(t, 'latin1'), 5), t);
  assert.equal(verdict(base, 1 << 20, COMPACT_ENTRY), undefined);
  for (let k = 0; k < 5_000; k++) {
    const b = Buffer.from(base);
    for (let m = 1 + rnd(3); m > 0; m--) b[rnd(b.length)] = alphabet[rnd(alphabet.length)];
    const piece = 1 + rnd(400);
    assert.equal(verdict(b, piece, COMPACT_ENTRY), verdict(b, piece), b.toString('latin1'));
  }
});

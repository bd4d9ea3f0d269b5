/**
 * The safetensors fast path (a byte scanner) against the general path (JSON.parse): on generated
 * headers — odd names, escapes, whitespace, extra or repeated fields, bad numbers, metadata of every
 * kind, reordered and broken offsets — both must list the same tensors or fail with the same message,
 * and so must the scanner filling columns (readSafetensors' `table`).
 */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { withSource } from '../../server/src/formats/byteSource';
import { readSafetensors } from '../../server/src/formats/safetensors';
import { scanHeader } from '../../server/src/formats/safetensorsScan';
import { scratchDir } from '../support/tmp';
import { rng } from '../support/rng';

const tmp = scratchDir('st-scan');
// 600 headers in CI; TENSORPORT_FUZZ_RUNS (the fuzz test's long mode) scales it: 300 → 6,000.
const RUNS = 20 * Number(process.env.TENSORPORT_FUZZ_RUNS ?? 30);

const NAMES = ['a.weight', 'encoder.layer.0.attention.q.weight', 'b', '0.weight', '0', '12', '01', 'ключ.вес', 'x\\"y', 'tab\\t', '__proto__', 'dtype', '__metadata__x', 'é'];
const DTYPES = ['"F32"', '"F16"', '"BF16"', '"I64"', '"BOOL"', '"F33"', '123', 'null', '"F\\u0031 6"'];
const SIZE: Record<string, number> = { '"F32"': 4, '"F16"': 2, '"BF16"': 2, '"I64"': 8, '"BOOL"': 1 };
const BAD_NUMBERS = ['-1', '1.5', '1e2', '01', '"3"', '9007199254740993', 'true'];
const METADATA = ['{"format":"pt"}', '{"format":"pt","k":"v"}', '{}', 'null', '{"a":1}', '{"a":"\\u00e9"}', '{"a":"é"}', '{"format":"mlx"}', '[]', '{"__proto__":"x"}', '{"a":"1","a":"2"}'];

function header(r: () => number): { text: string; dataLen: number } {
  const pick = <T>(xs: T[]): T => xs[Math.floor(r() * xs.length)];
  const sp = () => (r() < 0.15 ? pick([' ', '\n', '  ', '\t', '\r\n']) : '');
  const entries: string[] = [];
  let offset = 0;
  const n = Math.floor(r() * 6);
  const used: string[] = [];
  for (let i = 0; i < n; i++) {
    const name = r() < 0.08 && used.length ? pick(used) : pick(NAMES) + (r() < 0.6 ? `.${i}` : '');
    used.push(name);
    const dtype = r() < 0.85 ? pick(DTYPES.slice(0, 5)) : pick(DTYPES);
    const dims = Array.from({ length: Math.floor(r() * 3) }, () => Math.floor(r() * 4));
    const bytes = dims.reduce((a, b) => a * b, 1) * (SIZE[dtype] ?? 4);
    let begin = offset, end = offset + bytes;
    if (r() < 0.05) [begin, end] = [end, begin];
    if (r() < 0.05) end += 1;
    offset = Math.max(begin, end);
    const shapeText = r() < 0.05 ? `[${pick(BAD_NUMBERS)}]` : `[${sp()}${dims.join(`,${sp()}`)}${sp()}]`;
    const offsText = r() < 0.04 ? `[${begin}]` : r() < 0.04 ? `[${pick(BAD_NUMBERS)},${end}]` : `[${begin},${sp()}${end}]`;
    const fields = [`"dtype":${sp()}${dtype}`, `"shape":${shapeText}`, `"data_offsets":${offsText}`];
    if (r() < 0.05) fields.pop();
    if (r() < 0.05) fields.push('"extra":1');
    if (r() < 0.03) fields.push(`"dtype":${dtype}`);
    if (r() < 0.5) fields.reverse();
    entries.push(`"${name}"${sp()}:${sp()}{${fields.join(`,${sp()}`)}}`);
  }
  if (r() < 0.2) entries.reverse();
  if (r() < 0.4) entries.splice(Math.floor(r() * (entries.length + 1)), 0, `"__metadata__":${pick(METADATA)}`);
  let text = `${sp()}{${entries.join(`,${sp()}`)}}${' '.repeat(Math.floor(r() * 8))}`;
  if (r() < 0.04) text = text.slice(0, Math.floor(r() * text.length));
  if (r() < 0.03) text += ',';
  if (r() < 0.02) text = '[1]';
  return { text, dataLen: offset + (r() < 0.05 ? 3 : 0) };
}

async function outcome(file: string, general: boolean, table = false): Promise<unknown> {
  try {
    // A spread copy: a table-backed info's `tensors` is read (made from the columns) like any other.
    return { ...await withSource(file, 'h.safetensors', (src) => readSafetensors(src, { general, table })) };
  } catch (e) {
    return { error: (e as Error).message };
  }
}

test(`fast and general header paths agree on ${RUNS} generated headers`, async () => {
  const r = rng(20261126);
  let fast = 0, accepted = 0;
  for (let i = 0; i < RUNS; i++) {
    const { text, dataLen } = header(r);
    const json = Buffer.from(text, 'utf8');
    const len = Buffer.alloc(8);
    len.writeBigUInt64LE(BigInt(json.length));
    const file = tmp.file(`h${i % 8}.safetensors`, Buffer.concat([len, json, Buffer.alloc(dataLen)]));
    if (scanHeader(json, file, 8 + json.length)) fast++;
    const a = await outcome(file, false);
    const b = await outcome(file, true);
    assert.deepEqual(a, b, `header ${i}: ${text}`);
    assert.deepEqual(await outcome(file, false, true), b, `header ${i} into columns: ${text}`);
    if (!(a as { error?: string }).error) accepted++;
  }
  // The generator must exercise both paths and both outcomes, or this test proves nothing.
  assert.ok(fast > RUNS * 0.2 && fast < RUNS * 0.9, `fast path taken ${fast}/${RUNS}`);
  assert.ok(accepted > RUNS * 0.15 && accepted < RUNS * 0.9, `accepted ${accepted}/${RUNS}`);
});

test('names JavaScript would reorder, duplicates and escapes leave the fast path', () => {
  const cases = ['{"0":{"dtype":"F32","shape":[],"data_offsets":[0,4]}}',
    '{"a":{"dtype":"F32","shape":[],"data_offsets":[0,4]},"a":{"dtype":"F32","shape":[],"data_offsets":[4,8]}}',
    '{"a\\u0062":{"dtype":"F32","shape":[],"data_offsets":[0,4]}}'];
  for (const c of cases) assert.equal(scanHeader(Buffer.from(c), '/x', 0), undefined, c);
  const ok = scanHeader(Buffer.from(' {"é.w" : {"shape":[2, 3],"dtype":"F16","data_offsets":[0,12]}, "__metadata__":{"format":"pt"}}  '), '/x', 100);
  assert.deepEqual(ok, { tensors: [{ key: 'é.w', dtype: 'F16', shape: [2, 3], location: { file: '/x', offset: 100, length: 12 } }], metadata: { format: 'pt' } });
});

test('the duplicate check holds at scale: 50,000 names, one repeated far apart', () => {
  const entry = (k: string, i: number) => `"${k}":{"dtype":"U8","shape":[1],"data_offsets":[${i},${i + 1}]}`;
  const keys = Array.from({ length: 50_000 }, (_, i) => `model.layers.${i >> 4}.block.${i & 15}.weight`);
  const clean = `{${keys.map(entry).join(',')}}`;
  assert.equal(scanHeader(Buffer.from(clean), '/x', 0)?.tensors.length, 50_000);
  const dup = `{${[...keys, keys[123]].map(entry).join(',')}}`;
  assert.equal(scanHeader(Buffer.from(dup), '/x', 0), undefined);
});
/**
 * The key trie against a brute-force reference: every key split by splitKey and compared segment by
 * segment. Random keys over `.` and `/` (TF2's `/.ATTRIBUTES` included), in random and sorted order
 * (the build reuses the previous key's path), with duplicates; literal, capture and `*` patterns.
 */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { splitKey } from '../../server/src/mapping/keySegments';
import { indexTable } from '../../server/src/formats/tableIndex';
import { encodeTensors } from '../../server/src/formats/tensorTable';
import { tableTrie } from '../../server/src/index/trieData';
import { ColumnMap, TensorColumns } from '../../server/src/index/tensorColumns';
import { KeyTrie } from '../../server/src/mapping/keyTrie';
import { Segment } from '../../server/src/mapping/syntax';

function rng(seed: number): () => number {
  let s = seed >>> 0;
  return () => ((s = Math.imul(s ^ (s >>> 15), 0x2c1b3c6d) + 0x6d2b79f5 >>> 0) / 2 ** 32);
}

const WORDS = ['layer', 'layers', 'weight', 'bias', 'attn', 'q', 'kernel', 'encoderblock_3', 'Dense_0', '.ATTRIBUTES', 'VARIABLE_VALUE', '', 'é'];

function randomKey(r: () => number): string {
  const n = 1 + Math.floor(r() * 5);
  let key = '';
  for (let i = 0; i < n; i++) {
    if (i > 0) key += r() < 0.7 ? '.' : '/';
    key += r() < 0.35 ? String(Math.floor(r() * 12)) : WORDS[Math.floor(r() * WORDS.length)];
  }
  return key;
}

/** Segment-wise match of one key, as the trie should answer it. */
function reference(keys: string[], pattern: Segment[]): { key: string; bindings: Record<string, number>; tail?: string }[] {
  const out: { key: string; bindings: Record<string, number>; tail?: string }[] = [];
  for (const key of keys) {
    const segs = splitKey(key);
    const bindings: Record<string, number> = {};
    let ok = true, tail: string | undefined;
    for (let i = 0; i < pattern.length && ok; i++) {
      const p = pattern[i];
      if (p.kind === 'star') {
        ok = segs.length > i && segs[i].sep === p.sep;
        if (ok) tail = key.slice(segs[i].start);
        break;
      }
      const s = segs[i];
      if (!s || s.sep !== p.sep) { ok = false; break; }
      if (p.kind === 'literal') ok = s.text === p.text;
      else {
        const pre = p.prefix ?? '', suf = p.suffix ?? '';
        const digits = s.text.length > pre.length + suf.length && s.text.startsWith(pre) && s.text.endsWith(suf) ? s.text.slice(pre.length, s.text.length - suf.length) : '';
        if (!/^(0|[1-9]\d*)$/.test(digits)) ok = false;
        else if (bindings[p.name] !== undefined && bindings[p.name] !== Number(digits)) ok = false;
        else bindings[p.name] = Number(digits);
      }
    }
    if (ok && pattern[pattern.length - 1]?.kind !== 'star' && segs.length !== pattern.length) ok = false;
    if (ok) out.push(tail === undefined ? { key, bindings } : { key, bindings, tail });
  }
  return out;
}

/** A pattern made from a key: some segments turned into captures (whole or inside), maybe a trailing `*`. */
function patternFrom(key: string, r: () => number): Segment[] {
  const segs = splitKey(key);
  const out: Segment[] = [];
  for (const s of segs) {
    const m = /^(.*?)(\d+)(\D*)$/.exec(s.text);
    if (m && r() < 0.5) out.push({ kind: 'capture', sep: s.sep, name: r() < 0.5 ? 'i' : 'j', ...(m[1] ? { prefix: m[1] } : {}), ...(m[3] ? { suffix: m[3] } : {}) });
    else out.push({ kind: 'literal', sep: s.sep, text: s.text });
  }
  if (out.length > 1 && r() < 0.25) out.splice(out.length - 1, 1, { kind: 'star', sep: out[out.length - 1].sep });
  return out;
}

const sortKey = (m: { key: string; bindings: Record<string, number>; tail?: string }) => JSON.stringify([m.key, Object.entries(m.bindings).sort(), m.tail]);

for (const order of ['random', 'sorted'] as const) {
  test(`the trie answers every pattern as a segment-by-segment match over all keys (${order} keys)`, () => {
    for (let seed = 1; seed <= 40; seed++) {
      const r = rng(seed);
      const raw = Array.from({ length: 200 }, () => randomKey(r));
      const keys = [...new Set(order === 'sorted' ? raw.sort() : raw)];
      const trie = new KeyTrie(keys);
      for (let q = 0; q < 60; q++) {
        const pattern = patternFrom(q % 5 === 4 ? randomKey(r) : keys[Math.floor(r() * keys.length)], r);
        const got = trie.match(pattern).map(sortKey).sort();
        const want = reference(keys, pattern).map(sortKey).sort();
        assert.deepEqual(got, want, `seed ${seed}: ${JSON.stringify(pattern)}`);
      }
      // A prefix ending at a segment boundary: the keys whose first segments are the prefix's (the node and below).
      for (const key of keys.slice(0, 20)) {
        const segs = splitKey(key);
        if (segs.length < 2) continue;
        const head = segs.slice(0, -1);
        const prefix = key.slice(0, segs[segs.length - 1].start);
        const under = keys.filter((k) => { const ks = splitKey(k); return ks.length >= head.length && head.every((s, i) => s.sep === ks[i].sep && s.text === ks[i].text); });
        assert.deepEqual(new Set(trie.keysWithPrefix(prefix, Infinity)), new Set(under), `seed ${seed}: prefix ${prefix}`);
      }
    }
  });
}

test('children keep the order their keys were given in', () => {
  const keys = ['b.2.x', 'a.1', 'b.10.y', 'b.2.w', 'a.0'];
  const trie = new KeyTrie(keys);
  assert.deepEqual(trie.keysWithPrefix('', 10), ['b.2.x', 'b.2.w', 'b.10.y', 'a.1', 'a.0']);
  assert.deepEqual(trie.match([{ kind: 'literal', sep: '', text: 'b' }, { kind: 'capture', sep: '.', name: 'i' }, { kind: 'star', sep: '.' }]).map((m) => m.key), ['b.2.x', 'b.2.w', 'b.10.y']);
});

test("a read worker's trie, built from the key arena over table positions, answers as one built from the side's keys", () => {
  for (let seed = 1; seed <= 20; seed++) {
    const r = rng(seed);
    // Duplicates included: a later tensor of the same key shadows the earlier one, in the map and the trie.
    const raw = Array.from({ length: 300 }, () => randomKey(r));
    const table = encodeTensors(raw.map((key) => ({ key, dtype: 'F32', shape: [1] })));
    const index = indexTable(table);
    const map = new ColumnMap(new TensorColumns(table, index), false, () => false);
    const keys = [...map.keys()];
    const fromWorker = new KeyTrie(map.byPosition(), tableTrie(table, index));
    const fromKeys = new KeyTrie(keys);
    assert.equal(fromWorker.size, fromKeys.size);
    for (let q = 0; q < 60; q++) {
      const pattern = patternFrom(keys[Math.floor(r() * keys.length)], r);
      assert.deepEqual(fromWorker.match(pattern), fromKeys.match(pattern), `seed ${seed}: ${JSON.stringify(pattern)}`);
      assert.deepEqual(fromWorker.keysNear(pattern, 5, 20), fromKeys.keysNear(pattern, 5, 20));
    }
    assert.deepEqual(fromWorker.keysWithPrefix('', Infinity), fromKeys.keysWithPrefix('', Infinity));
  }
});

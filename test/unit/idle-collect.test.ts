/**
 * The idle collection (server/src/lsp/idleCollect.ts): V8's gc runs once the server has been quiet for
 * the set time after the heap grew by the set amount, not while work keeps coming, and not after a
 * quiet period that followed no growth.
 */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { setTimeout as sleep } from 'node:timers/promises';
import { getHeapStatistics } from 'node:v8';
import { exposedGc, IdleCollector } from '../../server/src/lsp/idleCollect';

test('a collection comes after a quiet period that followed growth, never during work', async () => {
  let collections = 0;
  // A quiet period far longer than the gaps between touches, so a slow machine cannot fake one.
  const collector = new IdleCollector(1000, 4 * 2 ** 20, () => { collections++; });
  const held: number[][] = [];
  for (let i = 0; i < 10; i++) {
    held.push(Array.from({ length: 100_000 }, (_, j) => j + i));  // ~8 MiB kept: the heap grows
    collector.touch();
    await sleep(10);
  }
  assert.equal(collections, 0, 'work kept coming: no collection yet');
  await sleep(1600);
  assert.equal(collections, 2, 'one idle collection (its two passes)');
  collector.touch();
  await sleep(1600);
  assert.equal(collections, 2, 'quiet again without growth: no collection');
  assert.ok(held.length === 10);
});

test('the server gets V8\'s gc whichever way it was started, and it frees garbage', () => {
  // This test process was started without --expose-gc: the collector exposes V8's itself.
  assert.equal(typeof (globalThis as { gc?: unknown }).gc, 'undefined');
  const gc = exposedGc();
  assert.equal(typeof gc, 'function');
  const holder: { garbage?: number[][] } = { garbage: Array.from({ length: 50 }, () => Array.from({ length: 20_000 }, (_, j) => j)) };
  const before = getHeapStatistics().used_heap_size;
  delete holder.garbage;
  gc!();
  assert.ok(getHeapStatistics().used_heap_size < before - 4 * 2 ** 20, 'the dropped arrays were collected');
});

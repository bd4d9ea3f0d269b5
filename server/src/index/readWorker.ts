/**
 * The body of a read-pool worker thread: runs one job per message (readProtocol.ts) and posts back
 * plain data — tensors packed into a TensorTable, errors as their fields (class instances do not
 * cross threads).
 */
import { parentPort } from 'node:worker_threads';
import { readCheckpoint } from '../formats/readCheckpoint';
import { ReaderError } from '../formats/readerError';
import { readIndexPlan, readSafetensorsIndex } from '../formats/safetensorsIndex';
import { CheckpointInfo } from '../formats/tensorInfo';
import type { ReadJob, ReadOutcome, ReadReply, ReadRequest, WorkerLog } from './readProtocol';
import { entryBytes, storeEntry } from './tableCache';
import { compactTable, decodeTensors, fieldsOf, tableBuffers, tableFor } from '../formats/tensorTable';
import { indexBuffers, indexTable } from '../formats/tableIndex';
import { tableTrie, trieBuffers } from './trieData';

parentPort?.on('message', (req: ReadRequest) => {
  run(req).then(
    (result) => {
      // The cache entry is copied out before the reply transfers the arrays, and written after it is sent.
      const cache = req.op === 'read' ? req.cache : undefined;
      const entry = cache && result.ok && 'table' in result ? cacheBytes(cache.name, result, cache.minTensors) : undefined;
      post(req.id, result);
      if (cache && entry) {
        storeEntry(cache, cache.name, entry).catch((e: unknown) => {
          const log: WorkerLog = { log: `table cache: could not keep ${req.displayName}: ${(e as NodeJS.ErrnoException).code ?? String(e)}` };
          parentPort!.postMessage(log);
        });
      }
    },
    (e: unknown) => {
      // Readers only throw ReaderError; anything else is a bug we still report as this file's reason.
      const err = e instanceof ReaderError ? e : new ReaderError('unreadable-checkpoint', req.displayName, String(e));
      post(req.id, { ok: false, error: { code: err.code, file: err.file, reason: err.reason, offset: err.offset } });
    },
  );
});

async function run(job: ReadJob): Promise<ReadOutcome | { ok: true; plan: string[] }> {
  switch (job.op) {
    case 'read':
      return packed(await readCheckpoint(job.file, { displayName: job.displayName, maxHeaderBytes: job.maxHeaderBytes, kind: job.kind, identity: job.identity, table: true }), job.index);
    case 'plan':
      return { ok: true, plan: (await readIndexPlan(job.file, job.displayName)).shards };
    case 'merge':
      return packed(await readSafetensorsIndex(job.file, job.displayName, async (file) => unpack(job.shards[file])), true);
  }
}

/** The reader's columns as they are (a safetensors header is scanned into them), else packed from its objects. */
function packed(info: CheckpointInfo, withIndex = false): ReadOutcome {
  const fields = { ...fieldsOf(info), tensors: [] };
  if (!withIndex) return { ok: true, info: fields, table: tableFor(info) };
  // The server keeps this table for as long as the file is open: its number columns in 32 bits where they fit.
  const table = compactTable(tableFor(info));
  const index = indexTable(table);
  // The key trie too, built here rather than on the server's thread; only where no tensor left the columns
  // (those carry fields a side may leave out of its keys, an ONNX constant's value).
  return { ok: true, info: fields, table, index, ...(table.extras.length === 0 ? { trie: tableTrie(table, index) } : {}) };
}

/** The read as a cache entry's bytes, when it is one to keep (tableCache.ts says which). */
function cacheBytes(name: string, r: Extract<ReadOutcome, { ok: true }>, minTensors?: number): Buffer | undefined {
  if (!r.index || !r.trie || !r.info.identity) return undefined;
  return entryBytes({ name, identity: r.info.identity, info: fieldsOf(r.info), table: r.table, index: r.index, trie: r.trie }, minTensors);
}

function unpack(outcome: ReadOutcome | undefined): CheckpointInfo {
  if (!outcome) throw new Error('a shard was not read');
  if (!outcome.ok) throw new ReaderError(outcome.error.code, outcome.error.file, outcome.error.reason, outcome.error.offset);
  return { ...outcome.info, tensors: decodeTensors(outcome.table) };
}

function post(id: number, result: ReadOutcome | { ok: true; plan: string[] }): void {
  const reply = { id, ...result } as ReadReply;
  const transfer = 'table' in result ? [...tableBuffers(result.table), ...(result.index ? indexBuffers(result.index) : []), ...(result.trie ? trieBuffers(result.trie) : [])] : [];
  parentPort!.postMessage(reply, transfer);
}

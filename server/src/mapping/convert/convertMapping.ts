/**
 * `tensorport convert`: applies a checked mapping to the source checkpoint and writes the target's
 * tensors as one safetensors file. The mapping is analysed first and refused on any error; then a
 * plan fixes every output tensor's dtype, shape and offset (the target checkpoint gives keys, order,
 * dtypes and shapes, and the output must match them exactly); then tensors stream one at a time —
 * read only the bytes a rule needs, transform, check, write — into a temporary file that is renamed
 * into place only when complete. Sources are only ever opened for reading.
 */
import { promises as fs } from 'node:fs';
import * as path from 'node:path';
import pkg from '../../../../package.json';
import { exists, writeTempFile } from '../../formats/atomicWrite';
import { HeaderIdentity, describeFsError, withSource } from '../../formats/byteSource';
import { publishSet, testPublishGate } from '../../formats/publish';
import { describeRemoved, removeStaleTemps } from '../../formats/staleTemps';
import { readRegularFile } from '../../formats/openRegular';
import { Framework } from '../../formats/tensorInfo';
import { CheckpointIndex } from '../../index/checkpointIndex';
import { analyzeMapping } from '../analyze';
import { MappingDiagnostic } from '../diagnostics';
import { positionAt } from '../lineIndex';
import { parseMapping } from '../parse';
import { SideResult, loadSides } from '../sides';
import { SideData, isModelSourceSide } from '../sideData';
import { Rule } from '../syntax';
import { ConvertError, listProblems } from './errors';
import { planConversion } from './plan';
import { produceTensor } from './produceTensor';
import { Layout, OutTensor, PublishOptions, publishError, writeAtomic, writeTemp } from './atomicOutput';
import { OutputFormat, unwritableDtype } from './outputFormat';
import { OLD_PROTOCOL_MAX, paddlePickleLayout } from './paddlePickleLayout';
import { safetensorsLayout } from './safetensorsWriter';
import { torchZipLayout } from './torchZipLayout';
import { GgufMetadata, ggufLayout } from './ggufLayout';
import { quantizableQ8_0 } from './q8_0';
import { ggufMetadataFromConfig } from './ggufConfigMetadata';

const FLOAT_DTYPES = new Set(['F32', 'F16', 'BF16']);
import { shardIndex, shardName, splitShards } from './shards';
import { SourceFiles } from './sourceData';

export interface ConvertOptions {
  /** After each tensor is written: how many so far, how many in all, the key just written. */
  onProgress?(done: number, total: number, key: string): void;
  /** Aborting stops at the next read or write, removes the temporary file and rejects with the signal's reason. */
  signal?: AbortSignal;
  /** Reuse an index (the language server's); a fresh one otherwise. */
  index?: CheckpointIndex;
  /** The container to write (default: safetensors). */
  format?: OutputFormat;
  /** paddle.save's pickle protocol (default 4; 2 and 3 for older Paddle). */
  protocol?: 2 | 3 | 4;
  /** Replace an existing output file (otherwise it is refused, also when it appears during the run). */
  force?: boolean;
  /** Told things worth a line that are not the result (stale temporary files removed beside the output). */
  onNotice?(line: string): void;
  /** How the caller's user names that option, for the refusal (`--force` on the command line, the default). */
  forceOption?: string;
  /** safetensors only: shards of at most this many bytes and an index, as save_pretrained writes them. */
  maxShardBytes?: number;
  /** GGUF only: the GGUF whose metadata to carry over (default: the target, when it is a GGUF). */
  metadataFrom?: string;
  /** GGUF only: write every float matrix whose rows hold whole 32-value blocks as Q8_0 (vectors stay as they are, as llama.cpp keeps them). */
  quantize?: 'q8_0';
}

export interface ConvertSummary {
  /** The output path as given. */
  output: string;
  tensors: number;
  /** Size of the file written, header included. */
  bytes: number;
  /** Target keys no rule writes (buffers the model rebuilds): not in the output. */
  unwritten: string[];
  /** Warnings of the analysis (`file:line:column: code: message`), which do not stop a conversion. */
  warnings: string[];
  ms: number;
  /** How many shard files were written (sharded safetensors). */
  shards?: number;
  /** How many tensors were written as Q8_0 (`--quantize q8_0`). */
  quantized?: number;
}

/** The safetensors `format` each layout convention is written as (`pt` is what transformers expects). */
const FORMAT: Record<Framework, string> = { torch: 'pt', paddle: 'paddle', jax: 'flax', tf: 'tf', keras: 'keras', tfjs: 'tfjs', mlx: 'mlx', onnx: 'onnx', gguf: 'gguf' };

export async function convertMapping(mappingPath: string, outPath: string, opts: ConvertOptions = {}): Promise<ConvertSummary> {
  const t0 = performance.now();
  const { signal } = opts;
  signal?.throwIfAborted();
  let text: string;
  try {
    text = await readRegularFile(mappingPath, 'a mapping file');
  } catch (e) {
    throw new ConvertError('io', `${mappingPath}: ${describeFsError(e)}`);
  }
  const file = parseMapping(text);
  const sides = await loadSides(mappingPath, file, opts.index ?? new CheckpointIndex());
  const analysis = analyzeMapping(file, sides);
  const at = (d: MappingDiagnostic) => {
    const p = positionAt(file.lineStarts, d.start);
    return `${mappingPath}:${p.line + 1}:${p.character + 1}: ${d.code}: ${d.message}`;
  };
  const errors = analysis.diagnostics.filter((d) => d.severity === 'error');
  if (errors.length > 0) {
    const unreadable = errors.some((d) => d.code === 'unreadable-checkpoint' || d.code === 'unsafe-pickle');
    const lines = errors.map(at);
    throw new ConvertError(unreadable ? 'input' : 'mapping',
      `${mappingPath}: the mapping has ${errors.length} error${errors.length === 1 ? '' : 's'}; nothing was written:\n${listProblems(lines)}`, lines);
  }
  const src = side(sides.source, 'source', mappingPath);
  const tgt = side(sides.target, 'target', mappingPath);
  const rules = file.items.filter((i): i is Rule => i.kind === 'rule');

  const plan = planConversion(mappingPath, file, rules, src, tgt);
  if (plan.problems.length > 0) {
    const kind = plan.problems.some((p) => p.kind === 'input') ? 'input' : 'mapping';
    const lines = plan.problems.map((p) => p.message);
    throw new ConvertError(kind, `${mappingPath}: cannot convert (${lines.length} problem${lines.length === 1 ? '' : 's'}); nothing was written:\n${listProblems(lines)}`, lines);
  }
  if (plan.tensors.length === 0) throw new ConvertError('mapping', `${mappingPath}: no rule writes any of the target's ${tgt.keys.length} tensors; nothing was written`);
  await refuseOverwritingInputs(outPath, [mappingPath, src.path, tgt.path, ...plan.reads]);
  const format = opts.format ?? 'safetensors';
  const cannot = plan.tensors.flatMap((t) => { const why = unwritableDtype(format, t.dtype); return why ? [`\`${t.key}\` (${t.dtype}): ${why}`] : []; });
  if (format === 'paddle' && (opts.protocol ?? 4) < 4) {
    for (const t of plan.tensors) {
      if (t.byteLength > OLD_PROTOCOL_MAX) cannot.push(`\`${t.key}\` (${t.byteLength} bytes): pickle protocol ${opts.protocol} holds at most 1 GiB per tensor here (Paddle itself splits such a parameter into slices); use protocol 4`);
    }
  }
  if (cannot.length) throw new ConvertError('input', `${outPath}: cannot hold ${cannot.length === 1 ? 'a tensor' : `${cannot.length} tensors`} of the target; nothing was written:\n${listProblems(cannot)}`, cannot);
  if (opts.quantize && format !== 'gguf') throw new ConvertError('input', `${outPath}: --quantize ${opts.quantize} writes GGUF only (this output is ${format}); nothing was written`);
  const q8_0 = new Set(opts.quantize === 'q8_0' ? plan.tensors.flatMap((t, i) => (FLOAT_DTYPES.has(t.dtype) && quantizableQ8_0(t.shape) ? [i] : [])) : []);
  const shards = format === 'safetensors' && opts.maxShardBytes ? splitShards(plan.tensors, opts.maxShardBytes) : [];
  // What a loader opens: the file, or a sharded set's index.
  const written = shards.length > 1 ? `${outPath}.index.json` : outPath;
  // Refused early when the output is there already (the shards too: they are published without
  // replacing anything); the publish itself checks again, for files that appear during the run.
  const names = shards.length > 1 ? [written, ...shards.map((_, k) => shardName(outPath, k, shards.length))] : [written];
  if (!opts.force) {
    for (const n of names) if (await exists(n)) throw new ConvertError('io', `${n}: exists; convert replaces it only with ${opts.forceOption ?? '--force'} (nothing was written)`);
  }
  const outDir = path.dirname(path.resolve(outPath));
  const removed = await removeStaleTemps(outDir);
  if (removed.length) opts.onNotice?.(describeRemoved(path.dirname(outPath), removed));

  const metadata: Record<string, string> = {};
  if (tgt.framework) metadata.format = FORMAT[tgt.framework];
  metadata['tensorport.source'] = src.written;
  metadata['tensorport.mapping'] = mappingPath;
  metadata['tensorport.version'] = pkg.version;

  const files = new SourceFiles((f) => displayName(f, src, tgt), signal);
  files.expectHeaders(headerEnds(src));
  // Every source file read must still be what it was when the run began reading it (sourceIdentity.ts).
  const identities = new Map<string, HeaderIdentity>(src.info.identity ? [[src.path, src.info.identity]] : []);
  const publishing: PublishOptions = { replace: opts.force, forceOption: opts.forceOption, beforePublish: () => files.verifyUnchanged(identities) };
  try {
    // Each tensor's scratch buffers are one generation of the pool, released once that tensor is on disk.
    const generation: number[] = [];
    const produce = async (i: number) => {
      generation[i] = files.pool.nextGeneration();
      const p = plan.tensors[i];
      const out = await produceTensor(p.rule, p.sources, files, `\`${p.key}\` (${p.where})`, signal, p.castTo);
      // The plan checked this already; checking the data's own type again costs nothing and guards the header.
      if (out.dtype !== p.dtype || out.shape.join() !== p.shape.join()) {
        throw new ConvertError('mapping', `${p.where}: \`${p.key}\` came out ${out.dtype} [${out.shape.join(', ')}], but the target's is ${p.dtype} [${p.shape.join(', ')}]`);
      }
      return out.data;
    };
    const write = { signal, onWritten: (i: number) => {
      files.pool.recycle(generation[i]); // tensor i is on disk: its buffers are free for the ones after it
      opts.onProgress?.(i + 1, plan.tensors.length, plan.tensors[i].key);
    } };
    let bytes: number;
    if (shards.length > 1) {
      bytes = await writeShards(outPath, plan.tensors, shards, metadata, produce, { ...write, ...publishing });
    } else {
      const stem = path.basename(outPath).replace(/\.[^.]*$/, '').replace(/[^\w.-]/g, '_') || 'archive';
      const layout: Layout = format === 'torch' ? torchZipLayout(plan.tensors, stem)
        : format === 'paddle' ? paddlePickleLayout(plan.tensors, opts.protocol ?? 4)
          : format === 'gguf' ? ggufLayout(plan.tensors, await ggufMetadataOf(opts.metadataFrom, tgt, opts.index ?? new CheckpointIndex()), q8_0)
            : safetensorsLayout(plan.tensors, metadata);
      bytes = await writeAtomic(outPath, plan.tensors, layout, produce, { ...write, ...publishing });
    }
    const warnings = analysis.diagnostics.filter((d) => d.severity === 'warning').map(at);
    return { output: written, tensors: plan.tensors.length, bytes, unwritten: plan.unwritten, warnings, ms: performance.now() - t0, ...(shards.length > 1 ? { shards: shards.length } : {}), ...(q8_0.size ? { quantized: q8_0.size } : {}) };
  } finally {
    await files.close();
  }
}

/**
 * The sides a conversion reads: the source must be a checkpoint (its bytes are what is written); the
 * target may be model source, whose inferred `state_dict()` gives the keys, order and shapes to write.
 */
function side(r: SideResult | undefined, kind: 'source' | 'target', mappingPath: string): SideData {
  const why = kind === 'target' ? 'convert takes the keys, order and shapes to write from the target (a checkpoint or model source)' : 'convert reads the tensors from it';
  if (!r?.ok) throw new ConvertError('mapping', `${mappingPath}: no \`${kind} PATH\` line naming a readable ${kind === 'target' ? 'checkpoint or model source' : 'checkpoint'}: ${why}`);
  if (kind === 'source' && isModelSourceSide(r.side)) {
    throw new ConvertError('mapping', `${mappingPath}: the source \`${r.side.written}\` is model source, not a checkpoint: ${why}`);
  }
  return r.side;
}

/** Messages name files as the mapping wrote them where possible. */
function displayName(file: string, src: SideData, tgt: SideData): string {
  if (file === src.path) return src.written;
  if (file === tgt.path) return tgt.written;
  return file;
}

/** The output must not replace the mapping or any file the conversion reads. */
async function refuseOverwritingInputs(out: string, inputs: string[]): Promise<void> {
  const real = async (p: string) => fs.realpath(p).catch(() => path.resolve(p));
  const target = await real(out);
  for (const p of inputs) {
    if ((await real(p)) === target) throw new ConvertError('io', `${out}: is one of the conversion's inputs (${p}); write the output elsewhere`);
  }
  const st = await fs.stat(out).catch(() => undefined);
  if (st?.isDirectory()) throw new ConvertError('io', `${out}: is a directory; name the output file (OUT.safetensors, OUT.pdparams, OUT.pt)`);
}

/**
 * Shards, then the index — each shard written completely under a temporary name first; only when every
 * one is complete (and the sources are unchanged) are they published as one set, the index last
 * (loaders read it first), without replacing anything unless asked (publish.ts publishSet). A failure
 * removes every part this run wrote or published: no half set of shards is left beside an index.
 */
async function writeShards(outPath: string, tensors: readonly OutTensor[], shards: readonly number[][], metadata: Record<string, string>,
  produce: (i: number) => Promise<Buffer>, opts: PublishOptions & { signal?: AbortSignal; onWritten(i: number): void }): Promise<number> {
  const index = `${outPath}.index.json`;
  const names = shards.map((_, k) => shardName(outPath, k, shards.length));
  const temps: string[] = [];
  let bytes = 0;
  try {
    for (let k = 0; k < shards.length; k++) {
      const idx = shards[k];
      const mine = idx.map((i) => tensors[i]);
      const part = await writeTemp(names[k], mine, safetensorsLayout(mine, metadata), (j) => produce(idx[j]), { signal: opts.signal, onWritten: (j) => opts.onWritten(idx[j]) });
      temps.push(part.tmp);
      bytes += part.bytes;
    }
    const text = shardIndex(tensors, shards, names.map((n) => path.basename(n)), metadata);
    temps.push(await writeTempFile(index, text).catch((e: unknown) => {
      throw new ConvertError('io', `${index}: cannot write the index: ${describeFsError(e)}; nothing was written`);
    }));
    await testPublishGate();
    await opts.beforePublish?.();
    opts.signal?.throwIfAborted();
    const set = [...names, index].map((target, k) => ({ tmp: temps[k], target }));
    await publishSet(set, { replace: opts.replace, forceOption: opts.forceOption }).catch((e: unknown) => {
      const failed = (e as { target?: string }).target ?? index;
      throw publishError(failed, e);
    });
    return bytes + Buffer.byteLength(text);
  } catch (e) {
    await Promise.all(temps.map((p) => fs.rm(p, { force: true }).catch(() => undefined)));
    throw e;
  }
}

/** Where each source file's header ends: the first byte of tensor data it holds (sourceIdentity.ts digests what is before). */
function headerEnds(src: SideData): Map<string, number> {
  const ends = new Map<string, number>();
  for (const t of src.info.tensors) {
    const loc = t.location;
    if (!loc) continue;
    const was = ends.get(loc.file);
    if (was === undefined || loc.offset < was) ends.set(loc.file, loc.offset);
  }
  return ends;
}

/** The metadata a GGUF output carries: `--metadata-from`'s, else the target's when it is a GGUF, else none. */
async function ggufMetadataOf(from: string | undefined, tgt: SideData, index: CheckpointIndex): Promise<GgufMetadata | undefined> {
  let file = tgt.path;
  let info = tgt.info;
  if (from && /\.json$/i.test(from)) return configMetadata(from);
  if (from) {
    const e = await index.get(path.resolve(from));
    if (!e.ok) throw new ConvertError('input', `--metadata-from ${from}: ${e.error.reason}`);
    file = e.path;
    info = e.info;
  }
  const m = info.ggufMetadata;
  if (!m) {
    if (from) throw new ConvertError('input', `--metadata-from ${from}: not a GGUF file`);
    return undefined;
  }
  // The readers' own bounded reader: a regular file only, a short read said as one line.
  const bytes = await withSource(file, file, (src) => src.read(m.offset, m.length, 'the GGUF metadata')).catch((e: unknown) => {
    throw new ConvertError('input', e instanceof Error ? e.message : String(e));
  });
  return { bytes, count: m.count, alignment: m.alignment };
}


/** A config.json's architecture keys (ggufConfigMetadata.ts); the model's name is its folder's. */
async function configMetadata(file: string): Promise<GgufMetadata> {
  let doc: unknown;
  try {
    const text = await readRegularFile(file, 'a config.json', (st) => {
      if (st.size > MAX_CONFIG_BYTES) throw new Error(`${st.size} bytes is no config.json`);
    });
    doc = JSON.parse(text);
  } catch (e) {
    throw new ConvertError('input', `--metadata-from ${file}: ${e instanceof SyntaxError ? `not valid JSON: ${e.message}` : describeFsError(e)}`);
  }
  if (typeof doc !== 'object' || doc === null || Array.isArray(doc)) throw new ConvertError('input', `--metadata-from ${file}: not a JSON object`);
  const m = ggufMetadataFromConfig(doc as Record<string, unknown>, path.basename(path.dirname(path.resolve(file))));
  if ('problem' in m) throw new ConvertError('input', `--metadata-from ${file}: ${m.problem}`);
  return m;
}

/** A config.json is a few KB; anything past this is not one. */
const MAX_CONFIG_BYTES = 16 * 1024 * 1024;

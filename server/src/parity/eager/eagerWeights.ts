/**
 * The weights of an eager run, made in Node so the candidate's come from the converter's own code: the
 * reference gets the mapping's source tensors as they are stored; the candidate gets each rule's target,
 * made by `produceTensor` (the same reading, transforms and casts as `convert`). Both are written, raw
 * and contiguous, into one scratch file per side in the run's private temp folder with a manifest of
 * (key, NumPy dtype, shape, offset); the probe reads each with `numpy.fromfile` and loads it in memory
 * (`load_state_dict` / `set_value`): nothing is written where the user keeps files, and the folder goes
 * when the run ends. (A file rather than the event channel: the probe reads it at disk speed, and the
 * channel stays small JSON lines.) bfloat16 travels as float32, which NumPy has.
 */
import { FileHandle, open } from 'node:fs/promises';
import * as path from 'node:path';
import { describeFsError } from '../../formats/byteSource';
import { DTYPE_SIZE, TensorInfo, numel } from '../../formats/tensorInfo';
import { CheckpointIndex } from '../../index/checkpointIndex';
import { positionAt } from '../../mapping/lineIndex';
import { expandRule } from '../../mapping/ruleCheck';
import { SideData, sideFromInfo } from '../../mapping/sideData';
import { MappingFile, Rule, isDrop } from '../../mapping/syntax';
import { castData } from '../../mapping/convert/cast';
import { produceTensor } from '../../mapping/convert/produceTensor';
import { SourceFiles, materialize, sourceView } from '../../mapping/convert/sourceData';
import { ParityError } from '../parityError';
import { readParityMapping } from '../parityMapping';
import { MappingLine } from '../weights';

/** NumPy's dtype strings for the checkpoint dtypes a model loads. */
const NUMPY: Readonly<Record<string, string>> = {
  F64: '<f8', F32: '<f4', F16: '<f2', BF16: '<f4', I64: '<i8', I32: '<i4', I16: '<i2', I8: '|i1', U8: '|u1', BOOL: '|b1',
};

export interface ManifestEntry { key: string; dtype: string; shape: number[]; offset: number; nbytes: number }

export interface SideWeights { blob: string; manifest: ManifestEntry[]; /** How messages name where they came from. */ what: string }

/** One expanded rule: which source keys make which target key, and the line that says so. */
export interface RuleInstance { sources: string[]; target: string; mapping: MappingLine; rule: Rule }

export interface EagerMapping {
  path: string;
  file: MappingFile;
  source: SideData;
  rules: RuleInstance[];
  /** Error diagnostics of the mapping check (`line N: code: message`): notes, the run is how you confirm them. */
  errors: string[];
}

export async function readMapping(mappingPath: string, index: CheckpointIndex, sourceOverride?: string): Promise<EagerMapping> {
  const { file, sides, errors } = await readParityMapping(mappingPath, index);
  let source: SideData;
  if (sourceOverride) {
    source = await readCheckpoint(sourceOverride, index);
  } else {
    if (!sides.source) throw new ParityError(`${mappingPath}: no \`source PATH\` line: the reference's weights come from the checkpoint the mapping reads (or give --reference-weights)`);
    if (!sides.source.ok) throw new ParityError(`${mappingPath}: source ${sides.source.failure.message}`);
    source = sides.source.side;
  }
  const rules: RuleInstance[] = [];
  for (const item of file.items) {
    if (item.kind !== 'rule' || !item.arrow || !item.target || isDrop(item.target)) continue;
    const mapping = lineOf(file, item);
    for (const inst of expandRule(item, source)) {
      if (inst.target !== undefined) rules.push({ sources: inst.sources, target: inst.target, mapping, rule: item });
    }
  }
  return { path: mappingPath, file, source, rules, errors };
}

export async function readCheckpoint(file: string, index: CheckpointIndex): Promise<SideData> {
  const abs = path.resolve(file);
  const entry = await index.get(abs);
  if (!entry.ok) throw new ParityError(`${file}: ${entry.error.reason}`);
  return sideFromInfo(entry.info, abs, file);
}

function lineOf(file: MappingFile, rule: Rule): MappingLine {
  const line = positionAt(file.lineStarts, rule.start).line;
  const end = line + 1 < file.lineStarts.length ? file.lineStarts[line + 1] - 1 : file.text.length;
  return { line: line + 1, text: file.text.slice(file.lineStarts[line], end).trim() };
}

/** Written in place, one awaited write per tensor: its buffer goes back to the converter's pool after. */
class BlobWriter {
  private offset = 0;
  readonly manifest: ManifestEntry[] = [];
  private constructor(private readonly fh: FileHandle) {}

  static async open(file: string): Promise<BlobWriter> {
    try {
      return new BlobWriter(await open(file, 'w', 0o600));
    } catch (e) {
      throw new ParityError(`cannot write the run's scratch file ${file}: ${describeFsError(e)}`);
    }
  }

  async add(key: string, dtype: string, shape: number[], data: Buffer, what: string): Promise<void> {
    const np = NUMPY[dtype];
    if (!np) throw new ParityError(`${what}: \`${key}\` is ${dtype}, which a model cannot load as it is (dequantise it first)`);
    const bytes = dtype === 'BF16' ? castData(data, 'BF16', 'F32') : data;
    this.manifest.push({ key, dtype: np, shape, offset: this.offset, nbytes: bytes.length });
    this.offset += bytes.length;
    let done = 0;
    while (done < bytes.length) done += (await this.fh.write(bytes, done, bytes.length - done)).bytesWritten;
  }

  close(): Promise<void> {
    return this.fh.close();
  }
}

function usable(t: TensorInfo, side: SideData): void {
  if (DTYPE_SIZE[t.dtype] === undefined) throw new ParityError(`${side.written}: \`${t.key}\` is ${t.dtype}, which has no dense values to load (dequantise it first)`);
  if (!t.location && numel(t.shape) > 0) throw new ParityError(`${side.written}: \`${t.key}\` has no stored bytes (a model source, or a compressed torch entry); save the checkpoint as safetensors`);
}

/** Every tensor of a checkpoint, as stored: the reference's weights. */
export async function writeCheckpointTensors(side: SideData, blob: string, signal?: AbortSignal): Promise<SideWeights> {
  const w = await BlobWriter.open(blob);
  const files = new SourceFiles((f) => (f === side.path ? side.written : f), signal);
  try {
    for (const key of side.keys) {
      const t = side.tensors.get(key)!;
      usable(t, side);
      const gen = files.pool.nextGeneration();
      const data = await materialize(await sourceView(t, files), files, `\`${key}\``);
      await w.add(key, t.dtype, t.shape, data, side.written);
      files.pool.recycle(gen);
    }
  } finally {
    await files.close();
    await w.close();
  }
  return { blob, manifest: w.manifest, what: side.written };
}

/** Each rule's target made from the source by the converter's transforms: the candidate's weights. */
export async function writeMappedTensors(m: EagerMapping, blob: string, signal?: AbortSignal): Promise<SideWeights> {
  const w = await BlobWriter.open(blob);
  const src = m.source;
  const files = new SourceFiles((f) => (f === src.path ? src.written : f), signal);
  const written = new Set<string>();
  try {
    for (const inst of m.rules) {
      if (written.has(inst.target)) continue; // the first rule for a key wins, as in convert
      const where = `${path.basename(m.path)}:${inst.mapping.line}`;
      const missing = inst.sources.find((k) => !src.tensors.has(k));
      if (missing) throw new ParityError(`${where}: source \`${missing}\` is not in ${src.written}`);
      const sources = inst.sources.map((k) => src.tensors.get(k)!);
      sources.forEach((t) => usable(t, src));
      const gen = files.pool.nextGeneration();
      let value;
      try {
        value = await produceTensor(inst.rule, sources, files, `\`${inst.target}\` (${where})`, signal);
      } catch (e) {
        throw new ParityError((e as Error).message);
      }
      await w.add(inst.target, value.dtype, value.shape, value.data, path.basename(m.path));
      files.pool.recycle(gen);
      written.add(inst.target);
    }
  } finally {
    await files.close();
    await w.close();
  }
  return { blob, manifest: w.manifest, what: `the mapping ${path.basename(m.path)}` };
}

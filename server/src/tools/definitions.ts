/**
 * The agent tools, one definition each: name, what it does, its schemas, which fields are paths, and
 * the call into the core that makes the CLI's `--json` document. The MCP server (cli/mcp/) and the
 * language server's tool request (lsp/) both run these, so an agent gets what `tensorport … --json`
 * prints.
 */
import { z } from 'zod';
import { printableJson } from '../formats/printable';
import { CheckpointIndex } from '../index/checkpointIndex';
import { ProgressEvent } from '../parity/types';
import { checkJson } from './checkTool';
import { convertJson, runConvertTool } from './convertTool';
import { diffJson } from './diffTool';
import { jsonOption } from './inputError';
import { keysJson } from './keysTool';
import { mapJson, proposeMappingFor } from './mapTool';
import { keyFilter, pageOf } from './paging';
import { parityJson, runParityTool } from './parityTool';
import * as s from './schemas';

export interface ToolContext {
  /** Reuse an index (the language server's); a fresh one per call otherwise. */
  index?: CheckpointIndex;
  signal?: AbortSignal;
  /** Whether parity's command mode (user code) may run, and if not, why and how to allow it. */
  commands: { allowed: true } | { allowed: false; refusal: string };
  /** Progress of long work: a line for people, and how far where it is countable. */
  onProgress?(message: string, done?: number, total?: number): void;
}

export interface ToolDefinition<I extends z.ZodObject = z.ZodObject, O extends z.ZodObject = z.ZodObject> {
  name: 'keys' | 'check' | 'map' | 'convert' | 'parity' | 'diff';
  title: string;
  description: string;
  input: I;
  output: O;
  /** Reads only: no file written, no model or user code run. */
  readOnly: boolean;
  /** The editor asks the user before each call (a file written, models or the user's own script run). */
  confirm: boolean;
  /** Input fields holding paths (or lists of paths), resolved against the workspace by faces whose working folder is not it. */
  paths: readonly string[];
  run(input: z.infer<I>, ctx: ToolContext): Promise<z.infer<O>>;
}

const define = <I extends z.ZodObject, O extends z.ZodObject>(d: ToolDefinition<I, O>): ToolDefinition => d as unknown as ToolDefinition;

export const TOOLS: readonly ToolDefinition[] = [
  define({
    name: 'keys', title: 'Checkpoint keys', input: s.keysInput, output: s.keysOutput, readOnly: true, confirm: false, paths: ['file', 'config'],
    description: 'Lists the tensors (key, dtype, shape, bytes) of a checkpoint — safetensors, torch.save, Paddle, ONNX, GGUF — without reading tensor data, or the state_dict a model class in Python/TypeScript source will have (FILE.py::Class, inferred, never run).',
    run: async (input) => {
      const doc = await keysJson(input, jsonOption);
      const match = input.filter === undefined ? undefined : keyFilter(input.filter);
      const { items, page } = pageOf(match ? doc.tensors.filter((t) => match(t.key)) : doc.tensors, input, match !== undefined);
      return { ...doc, tensors: items, ...(page ? { page } : {}) };
    },
  }),
  define({
    name: 'check', title: 'Check mappings', input: s.checkInput, output: s.checkOutput, readOnly: true, confirm: false, paths: ['files'],
    description: 'Diagnoses .tpmap mapping files against their checkpoints (missing transposes, shape and dtype mismatches, unmapped keys…), model source (fp16 attention masks) and conversion scripts, as the editor shows them. Read-only.',
    run: async (input, ctx) => {
      const doc = await checkJson(input.files, { index: ctx.index });
      const { items, page } = pageOf(doc.diagnostics, input);
      return { ...doc, diagnostics: items, ...(page ? { page } : {}) };
    },
  }),
  define({
    name: 'map', title: 'Propose a mapping', input: s.mapInput, output: s.mapOutput, readOnly: false, confirm: false, paths: ['source', 'target', 'output'],
    description: 'Proposes a complete mapping between two checkpoints (or model sources): one rule per target tensor with its transforms and a confidence, and what stays unmapped. Writes a .tpmap only when given an output path, and never over an existing file unless force is true.',
    run: async (input) => mapJson((await proposeMappingFor(input, jsonOption)).proposal),
  }),
  define({
    name: 'convert', title: 'Convert a checkpoint', input: s.convertInput, output: s.convertOutput, readOnly: false, confirm: true, paths: ['mapping', 'output', 'metadataFrom'],
    description: 'Applies a .tpmap mapping to its source checkpoint and writes the target checkpoint (.safetensors, .pdparams, .pt/.bin or .gguf), streamed tensor by tensor and atomically. Refuses a mapping with errors, and an existing output file unless force is true.',
    run: async (input, ctx) => convertJson(await runConvertTool(input, {
      signal: ctx.signal, index: ctx.index, onProgress: ctx.onProgress && ((done, total, key) => ctx.onProgress?.(`converting ${key}`, done, total)),
    }, jsonOption)),
  }),
  define({
    name: 'parity', title: 'Parity check', input: s.parityInput, output: s.parityOutput, readOnly: false, confirm: true, paths: ['reference', 'candidate', 'weights', 'cwd', 'referenceWeights', 'candidateWeights'],
    description: 'Runs a forward parity check: the reference and candidate ONNX models on the same inputs (optionally with the candidate\'s weights taken through a mapping) and reports max abs/rel difference, cosine per output and, with layers, the first diverging layer. Command mode runs your own comparison script instead. Writes no files.',
    run: async (input, ctx) => parityJson(await runParityTool(input, {
      signal: ctx.signal, commands: ctx.commands, onProgress: ctx.onProgress && ((e: ProgressEvent) => ctx.onProgress?.(e.message, e.done, e.total)),
    }, jsonOption)),
  }),
  define({
    name: 'diff', title: 'Compare checkpoints', input: s.diffInput, output: s.diffOutput, readOnly: true, confirm: false, paths: ['a', 'b'],
    description: 'Compares two checkpoints by key: tensors only in one, and tensors whose dtype or shape changed (saying when a shape is the other transposed). Reads headers only.',
    run: (input) => diffJson(input),
  }),
];

export function toolNamed(name: string): ToolDefinition | undefined {
  return TOOLS.find((t) => t.name === name);
}

/** A document as the text block beside structured content: the JSON, with file-controlled text escaped. */
export function jsonText(doc: unknown): string {
  return printableJson(JSON.stringify(doc));
}

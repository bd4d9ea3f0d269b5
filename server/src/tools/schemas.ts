/**
 * The tools' input and output schemas (zod, listed as JSON Schema). Outputs are the CLI's `--json`
 * documents (../shared/spec/cli.md, parity.md); inputs are the CLI's options as JSON fields. Inputs
 * are strict (a misspelt field is an error, not ignored); package.json's `languageModelTools` carry
 * the same input schemas (test/unit/contributions.test.ts compares them).
 */
import { z } from 'zod';

const path = (what: string) => z.string().min(1).describe(what);
const shape = z.array(z.union([z.number(), z.string()]));
/** Model source: a place inference could not follow, the key prefix it affects ('' = the whole model), 1-based. */
const incompleteEntry = z.object({ module: z.string(), message: z.string(), file: z.string(), line: z.number(), column: z.number() });
const numberOrText = z.union([z.number(), z.enum(['NaN', 'Infinity', '-Infinity'])]);

/** The most entries one answer lists: a 100k-tensor listing is paged, so no answer nears a client's read buffer. */
export const MAX_PAGE = 1000;
const offset = z.number().int().min(0).optional().describe('Paging: skip this many entries (default 0)');
const limit = z.number().int().min(1).max(MAX_PAGE).optional().describe(`Paging: list at most this many entries (default and most ${MAX_PAGE})`);
/** Present when the answer lists only part: how many match in all, which ones came, where the next page starts. */
const page = z.object({
  total: z.number().describe('How many entries match in all'),
  offset: z.number(), count: z.number().describe('How many this answer lists'),
  next: z.number().optional().describe('The offset of the next page; absent on the last'),
}).optional().describe('Present when the list is a page or filtered: the total, and the offset to ask for next');

export const keysInput = z.strictObject({
  file: path('A checkpoint (.safetensors, *.safetensors.index.json, .bin/.pt/.pth, .pdparams, .pdiparams, .onnx, .gguf, .npz/.npy, Flax .msgpack, a TF checkpoint PREFIX.index, .weights.h5/.keras, an Orbax folder, a TF.js model.json) or model source as FILE.py::Class, or FILE.ts::buildModel / FILE.js::buildModel (a TF.js model built by that function)'),
  config: path('Model source only: the config.json whose values size the model').optional(),
  filter: z.string().min(1).optional().describe('List only keys containing this text; * matches any run of characters (e.g. "layer.1.*weight")'),
  offset, limit,
});
export const keysOutput = z.object({
  file: z.string(), format: z.string(), framework: z.string().optional(), shapeOrder: z.literal('ggml').optional(), content: z.string().optional(),
  tensors: z.array(z.object({
    key: z.string(), dtype: z.string(), shape, bytes: z.number(),
    layout: z.string().optional(), constant: z.literal(true).optional(), graph: z.string().optional(),
    definition: z.object({ line: z.number(), column: z.number() }).optional(), tiedTo: z.string().optional(), conditional: z.string().optional(),
  })),
  config: z.record(z.string(), z.number()).optional(),
  metadata: z.record(z.string(), z.string()).optional(),
  notes: z.array(z.string()).optional(),
  complete: z.boolean().optional().describe('Model source: false when inference could not follow something that may add, remove or reshape parameters'),
  incomplete: z.array(incompleteEntry).optional(),
  remote: z.object({ url: z.string(), commit: z.string().optional(), requests: z.number(), bytes: z.number() }).optional()
    .describe('A remote checkpoint (hf://, https://): the URL read, the commit the Hub reported, the HTTP requests and bytes it took'),
  page,
});

export const checkInput = z.strictObject({
  files: z.array(path('A .tpmap mapping file, model source (.py, .ts) or a conversion script')).min(1).describe('The files to check'),
  offset, limit,
});
export const checkOutput = z.object({
  diagnostics: z.array(z.object({
    file: z.string(), line: z.number(), column: z.number(), endLine: z.number(), endColumn: z.number(),
    severity: z.enum(['error', 'warning', 'information']), code: z.string(), message: z.string(), key: z.string().optional(),
  })),
  sides: z.array(z.object({
    file: z.string(), role: z.enum(['source', 'target']), side: z.string(),
    complete: z.boolean().describe('Whether inference understood this model-source side entirely'), incomplete: z.array(incompleteEntry),
  })).optional().describe('Mappings whose source or target is model source: whether each such side was understood entirely'),
  summary: z.object({ files: z.number(), errors: z.number(), warnings: z.number(), information: z.number() }),
  page,
});

export const mapInput = z.strictObject({
  source: path('The source checkpoint (or FILE.py::Class)'),
  target: path('The target checkpoint (or FILE.py::Class)'),
  output: path('Write the proposed mapping here as a .tpmap (nothing is written without it)').optional(),
  force: z.boolean().optional().describe('Replace an existing output file'),
});
export const mapOutput = z.object({
  rules: z.array(z.object({ source: z.array(z.string()), target: z.string(), transforms: z.array(z.string()), confidence: z.number() })),
  unmappedSource: z.array(z.string()),
  unmappedTarget: z.array(z.string()),
});

export const convertInput = z.strictObject({
  mapping: path('The .tpmap mapping file; its source and target lines name the checkpoints'),
  output: path('The checkpoint to write: .safetensors, .pdparams, .pt/.pth/.bin or .gguf'),
  format: z.enum(['safetensors', 'torch', 'paddle', 'gguf']).optional().describe('The format, when the output name does not say it'),
  protocol: z.union([z.literal(2), z.literal(3), z.literal(4)]).optional().describe('.pdparams only: paddle.save\'s pickle protocol (default 4)'),
  maxShardSize: z.string().min(1).optional().describe('.safetensors only: shards of at most this size (e.g. 5GB) and an index'),
  metadataFrom: path('.gguf only: the GGUF whose metadata to carry over, or a config.json to build the architecture keys from').optional(),
  quantize: z.enum(['q8_0']).optional().describe('.gguf only: write float matrices as Q8_0 (as llama.cpp\'s --outtype q8_0); vectors stay float'),
  force: z.boolean().optional().describe('Replace an existing output file'),
});
export const convertOutput = z.object({
  output: z.string(), tensors: z.number(), bytes: z.number(), unwritten: z.array(z.string()), ms: z.number(), shards: z.number().optional(), quantized: z.number().optional(),
});

export const parityInput = z.strictObject({
  reference: path('The reference .onnx model, or FILE.py::NAME (eager mode: your own PyTorch/Paddle model in your Python)').optional(),
  candidate: path('The candidate .onnx model (the port), or FILE.py::NAME (eager mode)').optional(),
  weights: path('A .tpmap whose source tensors replace the candidate\'s initializers (eager mode: the reference loads its source, the candidate its targets)').optional(),
  inputs: z.array(z.string().min(1)).optional().describe('NAME=FILE.npy or NAME=random:SHAPE (e.g. input_ids=random:1x6); inputs not given are generated'),
  seed: z.number().int().min(0).optional(),
  atol: z.number().min(0).optional(),
  rtol: z.number().min(0).optional(),
  dtype: z.enum(['fp32', 'fp16', 'bf16']).optional().describe('Precision of the candidate run'),
  device: z.enum(['auto', 'cpu', 'cuda']).optional(),
  layers: z.boolean().optional().describe('Compare intermediate values and report the first diverging layer'),
  command: z.string().min(1).optional().describe('Command mode: a command running your own comparison script (JSON-lines protocol) instead of ONNX models'),
  cwd: path('Command mode: the folder to run the command in').optional(),
  timeout: z.number().positive().optional().describe('Command and eager mode: seconds before the run is stopped'),
  referenceWeights: path('Eager mode: a checkpoint the reference loads instead of the mapping\'s source').optional(),
  candidateWeights: path('Eager mode: a checkpoint the candidate loads as it is instead of the mapping\'s targets').optional(),
  backward: z.boolean().optional().describe('Eager mode: compare every parameter\'s gradient of the same loss too'),
  python: z.string().min(1).optional().describe('Eager mode: the Python interpreter (default python3)'),
  launcher: z.string().min(1).optional().describe('Eager mode: a launcher to run the probe under, e.g. "torchrun --nproc-per-node 2" (rank 0 reports)'),
});
const comparison = { maxAbsDiff: numberOrText, maxRelDiff: numberOrText, cosine: numberOrText };
export const parityOutput = z.looseObject({
  pass: z.boolean(), mode: z.enum(['onnx', 'command', 'eager']), device: z.string(), dtype: z.enum(['fp32', 'fp16', 'bf16']),
  outputs: z.array(z.looseObject({ name: z.string(), shape: z.array(z.number()).optional(), ...comparison, pass: z.boolean() })),
  firstDivergence: z.looseObject({ reference: z.string(), candidate: z.string(), ...comparison }).nullable().optional(),
  timings: z.looseObject({ loadMs: z.number(), runMs: z.number() }),
  notes: z.array(z.string()),
});

export const diffInput = z.strictObject({ a: path('The first checkpoint'), b: path('The second checkpoint') });
const diffTensor = z.object({ dtype: z.string(), shape: z.array(z.number()) });
export const diffOutput = z.object({
  a: z.string(), b: z.string(),
  onlyInA: z.array(diffTensor.extend({ key: z.string() })),
  onlyInB: z.array(diffTensor.extend({ key: z.string() })),
  changed: z.array(z.object({ key: z.string(), before: diffTensor, after: diffTensor, transposed: z.boolean() })),
  same: z.number(),
});

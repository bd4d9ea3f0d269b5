/**
 * The checkpoint formats `convert` writes, chosen by the output's extension or named: safetensors,
 * torch.save's zip (`.pt`, `.pth`, `.bin`), paddle.save's pickle (`.pdparams`), GGUF and a TF.js
 * model.json with its shards (`.json`); and the
 * dtypes each can hold.
 */
import { GGUF_TYPES } from './ggufLayout';
import { PADDLE_NUMPY_DTYPES } from './paddlePickleLayout';
import { TORCH_STORAGES } from './torchZipLayout';
import { TFJS_WRITE_DTYPES } from './tfjsOutput';

export type OutputFormat = 'safetensors' | 'torch' | 'paddle' | 'gguf' | 'tfjs';

export const OUTPUT_FORMATS: readonly OutputFormat[] = ['safetensors', 'torch', 'paddle', 'gguf', 'tfjs'];

const BY_EXTENSION: Readonly<Record<string, OutputFormat>> = Object.freeze({
  '.safetensors': 'safetensors', '.pt': 'torch', '.pth': 'torch', '.bin': 'torch', '.pdparams': 'paddle', '.gguf': 'gguf',
  // A TF.js model folder is named by its model.json (the shards are written beside it).
  '.json': 'tfjs',
});

/** The format an output path names; undefined for an extension no writer has. */
export function formatOfPath(out: string): OutputFormat | undefined {
  const dot = out.lastIndexOf('.');
  return dot < 0 ? undefined : BY_EXTENSION[out.slice(dot).toLowerCase()];
}

/** Why `dtype` cannot be written in `format`, or undefined when it can. */
export function unwritableDtype(format: OutputFormat, dtype: string): string | undefined {
  if (format === 'torch' && !TORCH_STORAGES[dtype]) return `torch.save has no storage for ${dtype} that torch.load(weights_only=True) rebuilds`;
  if (format === 'paddle' && !PADDLE_NUMPY_DTYPES[dtype]) return `paddle.save keeps numpy arrays, which have no ${dtype}`;
  if (format === 'gguf' && GGUF_TYPES[dtype] === undefined) return `GGUF has no ${dtype} tensor type (cast to F16, BF16 or F32)`;
  if (format === 'tfjs' && !TFJS_WRITE_DTYPES[dtype]) return `a TF.js layers model's weights are float32, int32 or bool, not ${dtype} (cast to F32)`;
  return undefined;
}

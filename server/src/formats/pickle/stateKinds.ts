/**
 * Training runs save more than weights beside a checkpoint — Trainer's `optimizer.pt`, `scheduler.pt`
 * and `rng_state.pth`. Each is recognised by the structure torch gives it, so it is listed as what it
 * is (the listing stays truthful) and not mistaken for a model.
 */
import { type PyValue, isObj } from './values';

export type StateContent = 'optimizer-state' | 'scheduler-state' | 'rng-state';

const RNG_KEYS = new Set(['python', 'numpy', 'cpu', 'cuda', 'xpu', 'mps', 'npu', 'hpu', 'mlu', 'musa']);

export function stateContent(root: PyValue): { content: StateContent; note: string } | undefined {
  if (!isObj(root) || root.kind !== 'dict') return undefined;
  const keys = new Set<string>();
  for (const [k] of root.entries.values()) if (typeof k === 'string') keys.add(k);
  if (keys.size !== root.entries.size || keys.size === 0) return undefined;
  if (keys.size === 2 && keys.has('state') && keys.has('param_groups')) {
    return { content: 'optimizer-state', note: 'an optimizer state (torch.optim state_dict: per-parameter moments such as `exp_avg`), not model weights' };
  }
  if (keys.has('base_lrs') && keys.has('last_epoch')) {
    return { content: 'scheduler-state', note: 'a learning-rate scheduler state (torch.optim.lr_scheduler state_dict), not model weights' };
  }
  if ([...keys].every((k) => RNG_KEYS.has(k)) && (keys.has('cpu') || keys.has('python'))) {
    return { content: 'rng-state', note: 'random number generator states (Python, numpy, torch), not model weights' };
  }
  return undefined;
}

/**
 * The order of the parts of a fused attention projection. A fused `qkv` (PaddleClas's `attn.qkv`, timm's,
 * GPT-2's `c_attn`, torch's `in_proj`) holds the query, then the key, then the value — its forward
 * reshapes to (3, heads, head_dim) and takes [0], [1], [2] — and a fused `kv` the key, then the value.
 * Every shape fits whatever order a `cat` lists its sources in or whichever third a `chunk` takes, so
 * only the names can tell: a query at the key's place is an error no other check catches, and eager
 * parity, comparing each part with the slice its rule names, sees it only where attention mixes them.
 */
import { Problem, Related } from './diagnostics';
import { Role, keyRole } from './roles';
import { Rule } from './syntax';

const PARTS: Partial<Record<Role, readonly Role[]>> = { qkv: ['q', 'k', 'v'], kv: ['k', 'v'] };
const NAME: Partial<Record<Role, string>> = { q: 'query', k: 'key', v: 'value' };
const ORDINAL = ['first', 'second', 'third'];

/** The problem with the order of a `cat` into, or a `chunk` out of, a fused q/k/v projection; undefined when it agrees or nothing says. */
export function partOrderProblem(rule: Rule, sourceKeys: string[], targetKey: string, related: Related[]): Problem | undefined {
  const cat = rule.transforms.find((t) => t.name.text === 'cat');
  if (cat && sourceKeys.length > 1) return catOrder(rule, sourceKeys, targetKey, related);
  const chunk = rule.transforms.find((t) => t.name.text === 'chunk');
  if (!chunk || sourceKeys.length !== 1) return undefined;
  const order = PARTS[keyRole(sourceKeys[0]).role!];
  const mine = keyRole(targetKey).role;
  const [n, k] = chunk.args.map((a) => a.value);
  if (!order || !mine || n !== order.length || k === undefined || !order.includes(mine)) return undefined;
  const want = order.indexOf(mine);
  if (k === want) return undefined;
  const arg = chunk.args[1];
  return {
    code: 'suspicious-pairing', severity: 'error', span: chunk, related,
    message: `\`${targetKey}\` is a ${NAME[mine]} but \`chunk(${n}, ${k})\` takes the ${ORDINAL[k] ?? `#${k + 1}`} part of \`${sourceKeys[0]}\`, the ${NAME[order[k]] ?? order[k]}: a fused ${order.join('')} holds ${order.map((r) => NAME[r]).join(', ')} in that order — use \`chunk(${n}, ${want})\``,
    fixes: [{ title: `Take part ${want}: \`chunk(${n}, ${want})\``, edits: [{ start: arg.start, end: arg.end, newText: String(want) }], preferred: true }],
  };
}

function catOrder(rule: Rule, sourceKeys: string[], targetKey: string, related: Related[]): Problem | undefined {
  const order = PARTS[keyRole(targetKey).role!];
  if (!order || sourceKeys.length !== order.length) return undefined;
  const roles = sourceKeys.map((k) => keyRole(k).role);
  // Only sources that name their roles, each once: anything else is not a q/k/v fusion this can judge.
  if (roles.some((r) => !r || !order.includes(r)) || new Set(roles).size !== roles.length) return undefined;
  if (roles.every((r, i) => r === order[i])) return undefined;
  const sorted = order.map((r) => rule.sources[roles.indexOf(r)].text);
  const list = { start: rule.sources[0].start, end: rule.sources[rule.sources.length - 1].end };
  return {
    code: 'suspicious-pairing', severity: 'error', span: list, related,
    message: `the parts are joined ${roles.map((r) => NAME[r!]).join(', ')} into \`${targetKey}\`, a fused ${order.join('')} that holds ${order.map((r) => NAME[r]).join(', ')} in that order: list them ${order.map((r) => NAME[r]).join(', ')}`,
    fixes: [{ title: `Order the parts ${order.join(', ')}`, edits: [{ start: list.start, end: list.end, newText: sorted.join(', ') }], preferred: true }],
  };
}

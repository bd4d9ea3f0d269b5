/**
 * What the interpreter knows by name rather than by reading code: the standard library's modules
 * (which hold no layers), the base classes that make a class a module, a library's `is_…` probes, the
 * string methods model code picks variants with, and how a condition is written in a note.
 */
import { Expr } from './ir';
import { knowsLayer } from './layers';
import { strFormat } from './pyFormat';
import { CallArgs, UNKNOWN, Value } from './values';

export const STDLIB = new Set(['typing', 'typing_extensions', 'dataclasses', 'enum', 'abc', 'collections', 'functools', 'itertools', 'logging', 'warnings', 're', 'os', 'sys', 'math', 'inspect', 'contextlib', 'builtins']);

/** A call to a library's `is_…` probe (`is_deepspeed_zero3_enabled()`). */
export function isProbe(test: Expr): boolean {
  if (test.k !== 'call') return false;
  const name = test.fn.k === 'attr' ? test.fn.name : test.fn.k === 'name' ? test.fn.id : '';
  return /^is_\w+$/.test(name);
}

/** An outside base class that makes a class a module: torch's and Paddle's, transformers' layers and models. */
export function isModuleBase(q: string): boolean {
  return /^(torch|paddle)\.nn\.[A-Z]\w*$|\.(Module|Layer|PreTrainedModel|PretrainedModel)$/.test(q)
    || /^transformers\..*(Layer|PreTrainedModel|Module)$/.test(q);
}

const FRAMEWORK_CLASSES = new Set(['Module', 'Layer', 'ModuleList', 'LayerList', 'Sequential', 'ModuleDict', 'LayerDict', 'ParameterList', 'ParameterDict', 'Parameter', 'Buffer', 'Tensor']);

/**
 * A qualified name whose real source an installed package may give (through the user's environment):
 * torch's and Paddle's layers the table (layers.ts) does not know (`torch.nn.TransformerEncoder`) and
 * their model zoos (`paddle.vision.models.resnet50`); any other package's classes and functions
 * (timm's `Block`) but the module bases that mark a class as a layer or a pretrained model and
 * configuration classes (read for their fields only). The standard library, numpy and transformers
 * (the library boundary, README) stay references.
 */
export function fromInstalledSource(q: string): boolean {
  const parts = q.split('.');
  const [root, last] = [parts[0], parts[parts.length - 1]];
  // transformers' generic heads (`GenericForSequenceClassification`…): model code the library keeps beside its utilities.
  if (/^transformers\.modeling_layers\.GenericFor\w+$/.test(q)) return true;
  if (parts.length < 2 || STDLIB.has(root) || ['builtins', 'copy', 'numpy', 'transformers', 'tfjs', 'workspace'].includes(root) || /Config$/.test(last)) return false;
  if (root === 'torch' || root === 'paddle') {
    if (parts.includes('models')) return true;
    return parts[1] === 'nn' && /^[A-Z]/.test(last) && !['initializer', 'init', 'utils', 'parameter', 'functional', 'quant'].includes(parts[2])
      && !knowsLayer(last) && !FRAMEWORK_CLASSES.has(last);
  }
  return !isModuleBase(q);
}

/** The string methods model code uses to pick a variant (`feed_forward_proj.split("-")`). */
export function strMethod(v: string, name: string, args: CallArgs): Value {
  const a = args.pos[0];
  switch (name) {
    case 'split': case 'rsplit': {
      const max = args.pos[1] ?? args.kw.get('maxsplit');
      if (max && !(max.t === 'num' && typeof max.d === 'number' && Number.isInteger(max.d))) return UNKNOWN;
      const n = max?.t === 'num' && typeof max.d === 'number' && max.d >= 0 ? max.d : -1;
      if (n >= 0 && a?.t !== 'str') return UNKNOWN;
      let parts = a?.t === 'str' ? v.split(a.v) : v.trim().split(/\s+/);
      // `maxsplit`: at most n cuts, from the left (`split`) or the right (`rsplit`); the rest stays joined.
      if (n >= 0 && a?.t === 'str' && parts.length > n + 1) {
        parts = name === 'split' ? [...parts.slice(0, n), parts.slice(n).join(a.v)] : [parts.slice(0, parts.length - n).join(a.v), ...parts.slice(parts.length - n)];
      }
      return { t: 'list', items: parts.map((p) => ({ t: 'str', v: p })) };
    }
    case 'isdigit': case 'isnumeric': case 'isdecimal': return { t: 'bool', v: /^\d+$/.test(v) };
    case 'isalpha': return { t: 'bool', v: /^[A-Za-z]+$/.test(v) };
    case 'lstrip': case 'rstrip': case 'strip': {
      if (a && a.t !== 'str' && a.t !== 'none') return UNKNOWN;
      const chars = a?.t === 'str' ? a.v : undefined;
      if (chars === '') return { t: 'str', v };
      const set = chars !== undefined ? `[${chars.replace(/[\]\\^-]/g, '\\$&')}]+` : '\\s+';
      const left = name !== 'rstrip' ? v.replace(new RegExp(`^${set}`), '') : v;
      return { t: 'str', v: name !== 'lstrip' ? left.replace(new RegExp(`${set}$`), '') : left };
    }
    case 'find': return a?.t === 'str' ? { t: 'num', d: v.indexOf(a.v) } : UNKNOWN;
    case 'count': return a?.t === 'str' && a.v ? { t: 'num', d: v.split(a.v).length - 1 } : UNKNOWN;
    case 'lower': return { t: 'str', v: v.toLowerCase() };
    case 'upper': return { t: 'str', v: v.toUpperCase() };
    case 'startswith': return a?.t === 'str' ? { t: 'bool', v: v.startsWith(a.v) } : UNKNOWN;
    case 'endswith': return a?.t === 'str' ? { t: 'bool', v: v.endsWith(a.v) } : UNKNOWN;
    case 'replace': return a?.t === 'str' && args.pos[1]?.t === 'str' ? { t: 'str', v: v.split(a.v).join(args.pos[1].v) } : UNKNOWN;
    case 'format': return strFormat(v, args);
    case 'join': return a?.t === 'list' && !a.partial && a.items.every((x) => x.t === 'str') ? { t: 'str', v: a.items.map((x) => (x as { v: string }).v).join(v) } : UNKNOWN;
    default: return UNKNOWN;
  }
}

/** An expression as Python source (`F.linear(x, self.weight)`), `…` for what the common tree does not keep. */
export function pythonText(e: Expr): string {
  switch (e.k) {
    case 'num': return String(e.v);
    case 'str': return JSON.stringify(e.v);
    case 'bool': return e.v ? 'True' : 'False';
    case 'name': return e.id;
    case 'attr': return `${pythonText(e.obj)}.${e.name}`;
    case 'unary': return `${e.op === 'not' ? 'not ' : e.op}${pythonText(e.e)}`;
    case 'call': return `${pythonText(e.fn)}(${e.args.map((a) => (a.name ? `${a.name}=` : '') + pythonText(a.value)).join(', ')})`;
    case 'bin': return `${pythonText(e.l)} ${e.op} ${pythonText(e.r)}`;
    case 'list': return e.tuple ? `(${e.items.map(pythonText).join(', ')})` : `[${e.items.map(pythonText).join(', ')}]`;
    default: return '…';
  }
}

/** A short rendering of a condition for notes. */
export function exprText(e: Expr): string {
  switch (e.k) {
    case 'name': return e.id;
    case 'attr': return `${exprText(e.obj)}.${e.name}`;
    case 'num': return String(e.v);
    case 'str': return JSON.stringify(e.v);
    case 'bool': return e.v ? 'True' : 'False';
    case 'none': return 'None';
    case 'compare': return e.items.map(exprText).reduce((a, b, i) => `${a} ${e.ops[i - 1]} ${b}`);
    case 'call': return `${exprText(e.fn)}(…)`;
    case 'unary': return `${e.op === 'not' ? 'not ' : e.op}${exprText(e.e)}`;
    case 'boolop': return `${exprText(e.l)} ${e.op} ${exprText(e.r)}`;
    case 'unknown': return e.text.length > 40 ? `${e.text.slice(0, 40)}…` : e.text;
    default: return '…';
  }
}

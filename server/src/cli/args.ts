/** Command-line parsing shared by the commands: node:util's parseArgs, with its errors as usage errors (exit 2). */
import { ParseArgsConfig, parseArgs } from 'node:util';
import { setPythonInterpreter } from '../source/pythonEnv';
import { UsageError } from './exit';

type Options = NonNullable<ParseArgsConfig['options']>;

export function parseCommandArgs<O extends Options>(args: string[], options: O) {
  try {
    return parseArgs({ args, options, allowPositionals: true, strict: true });
  } catch (e) {
    throw new UsageError((e as Error).message);
  }
}

/** `--python PATH` (keys, check, map, convert, mcp): the interpreter whose environment model source's imports resolve through. */
export const PYTHON_OPTION = { python: { type: 'string' } } as const;

/** Applies `--python` for every model source this process loads; absent, a workspace `.venv` is looked for. */
export function usePython(python: string | undefined): void {
  if (python === undefined) return;
  if (!python.trim()) throw new UsageError('--python takes the path of a Python interpreter');
  setPythonInterpreter(python, '--python');
}

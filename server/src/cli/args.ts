/** Command-line parsing shared by the commands: node:util's parseArgs, with its errors as usage errors (exit 2). */
import { ParseArgsConfig, parseArgs } from 'node:util';
import { UsageError } from './exit';

type Options = NonNullable<ParseArgsConfig['options']>;

export function parseCommandArgs<O extends Options>(args: string[], options: O) {
  try {
    return parseArgs({ args, options, allowPositionals: true, strict: true });
  } catch (e) {
    throw new UsageError((e as Error).message);
  }
}

/**
 * One tool call from raw JSON arguments to a document or a one-line reason, for faces that get their
 * arguments unchecked (the language server's tool request): the input schema first, paths resolved
 * against the workspace, then the tool; nothing it throws escapes as anything but one line.
 */
import * as path from 'node:path';
import { z } from 'zod';
import { clipLine } from '../formats/clip';
import { printable } from '../formats/printable';
import { ReaderError } from '../formats/readerError';
import { ConvertError } from '../mapping/convert/errors';
import { ParityError } from '../parity/parityError';
import { ToolContext, ToolDefinition } from './definitions';
import { checkToolPaths } from './confinePaths';
import { convertErrorLine } from './convertTool';
import { InputError } from './inputError';

export type ToolOutcome = { ok: true; json: unknown } | { ok: false; message: string };

export async function invokeTool(def: ToolDefinition, args: unknown, ctx: ToolContext, cwd?: string): Promise<ToolOutcome> {
  const parsed = def.input.safeParse(args ?? {});
  if (!parsed.success) return { ok: false, message: `${def.name}: ${issuesLine(parsed.error)}` };
  const input = cwd === undefined ? parsed.data : resolvePaths(parsed.data, def.paths, cwd);
  try {
    await checkToolPaths(def, input);
    return { ok: true, json: await def.run(input, ctx) };
  } catch (e) {
    return { ok: false, message: errorLine(e) };
  }
}

/** The schema's complaints, one line: `field: reason; field: reason`. */
export function issuesLine(error: z.ZodError): string {
  return clipLine(printable(error.issues.map((i) => `${i.path.length ? i.path.join('.') : 'arguments'}: ${i.message}`).join('; ')));
}

/** Any failure of a tool as the one line its user reads: readers' and the converter's own words, else the message escaped. */
export function errorLine(e: unknown): string {
  // Bounded however long an argument or a file's string it quotes: an answer stays one short line.
  return clipLine(unboundedLine(e));
}

function unboundedLine(e: unknown): string {
  if (e instanceof ReaderError) return e.message;
  if (e instanceof ConvertError) return convertErrorLine(e);
  if (e instanceof InputError || e instanceof ParityError) return printable(e.message);
  if (e instanceof Error && e.name === 'AbortError') return 'cancelled; nothing was written';
  return `internal error: ${printable(e instanceof Error ? e.message : String(e))}`;
}

function resolvePaths<T extends Record<string, unknown>>(input: T, fields: readonly string[], cwd: string): T {
  const out: Record<string, unknown> = { ...input };
  const resolve = (p: unknown) => (typeof p === 'string' ? path.resolve(cwd, p) : p);
  for (const f of fields) {
    const v = out[f];
    if (v !== undefined) out[f] = Array.isArray(v) ? v.map(resolve) : resolve(v);
  }
  return out as T;
}

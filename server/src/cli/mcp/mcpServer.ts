/**
 * `tensorport mcp`: the agent tools (../../tools/definitions.ts) as a Model Context Protocol server,
 * and the workspace's mapping files as resources carrying their current diagnostics. Every tool
 * answers with the CLI's `--json` document as structured content (and as text); every failure, a bad
 * argument included, is a tool error with one line, never a crash of the server.
 *
 * The SDK's low-level `Server`, not `McpServer`: McpServer answers a bad argument with its own
 * multi-line message, and the schemas here are the tools' own (listed as JSON Schema, and the same
 * ones the editor's language-model tools declare).
 */
import { Server } from '@modelcontextprotocol/sdk/server/index.js';
import { CallToolRequestSchema, CallToolResult, ListToolsRequestSchema, Tool } from '@modelcontextprotocol/sdk/types.js';
import { z } from 'zod';
import { clip } from '../../formats/clip';
import { confinement } from '../../formats/roots';
import { CheckpointIndex } from '../../index/checkpointIndex';
import { TOOLS, ToolContext, ToolDefinition, jsonText, toolNamed } from '../../tools/definitions';
import { invokeTool, issuesLine } from '../../tools/invoke';
import { registerMappingResources } from './mappingResources';
import { invalidParams } from './protocolError';
import { ServerRoots } from './serverRoots';

export interface McpOptions {
  /** The workspace: the mappings listed as resources are under it. Tool paths are relative to the working folder. */
  root: string;
  /** The real paths of the start folder and each --allow DIR; the client's roots are added as it announces them. */
  roots: readonly string[];
  /** Whether parity's command mode (the user's own script) may run. */
  allowCommands: boolean;
  version: string;
}

export const COMMAND_REFUSAL = 'command mode runs your own script: start the server as `tensorport mcp --allow-commands` to allow it';

const INSTRUCTIONS = 'Tensor Port ports neural-network weights between frameworks. It reads checkpoint headers (never tensor data) and .tpmap mapping files. '
  + 'A typical loop: keys or diff to see two checkpoints; map to propose a mapping (with output to write the .tpmap); check to read its diagnostics; '
  + 'edit the .tpmap until check reports no errors; convert to write the ported checkpoint; parity to verify the port numerically. '
  + 'Relative paths are relative to the folder the server runs in. Files are read and written only inside the server\'s roots (that folder, the client\'s roots, --allow folders), symlinks followed. '
  + 'Long lists (keys, check) come in pages of at most 1000: the answer\'s page says the total and the next offset; keys also takes a filter. '
  + 'Each mapping file of the workspace is also a resource with its current diagnostics.';

export interface McpSession {
  server: Server;
  /** Resolves once no tool call is running (stdin may end while one still is: its answer is still due). */
  idle(): Promise<void>;
}

export function createMcpServer(opts: McpOptions): McpSession {
  const server = new Server(
    { name: 'tensorport', title: 'Tensor Port', version: opts.version },
    { capabilities: { tools: {}, resources: {} }, instructions: INSTRUCTIONS },
  );
  // One index per set of roots: a checkpoint read for `check` is not read again for `convert` (its identity
  // is re-checked each time). A fresh one when the roots change: nothing read under a root now gone is served.
  let index = new CheckpointIndex();
  const roots = new ServerRoots(opts.roots, (line) => process.stderr.write(`tensorport mcp: ${line}\n`), () => { index = new CheckpointIndex(); });
  roots.listen(server);
  const commands: ToolContext['commands'] = opts.allowCommands ? { allowed: true } : { allowed: false, refusal: COMMAND_REFUSAL };
  const listing = TOOLS.map(toolListing);
  const running = new Set<Promise<unknown>>();
  server.setRequestHandler(ListToolsRequestSchema, () => ({ tools: listing }));
  server.setRequestHandler(CallToolRequestSchema, async (request, extra): Promise<CallToolResult> => {
    const def = toolNamed(request.params.name);
    // An unknown tool is the client's mistake (a protocol error, as the MCP spec has it), not the tool's.
    if (!def) throw invalidParams(`no tool "${clip(request.params.name)}": the tools are ${TOOLS.map((t) => t.name).join(', ')}`);
    const token = extra._meta?.progressToken;
    let count = 0;
    const ctx: ToolContext = {
      index, commands, signal: extra.signal,
      onProgress: token === undefined ? undefined : (message, done, total) => {
        // Progress must increase: the step count where there is one, else a running count.
        const progress = done ?? ++count;
        void extra.sendNotification({ method: 'notifications/progress', params: { progressToken: token, progress, ...(total !== undefined ? { total } : {}), message } }).catch(() => undefined);
      },
    };
    const confined = await roots.current();
    ctx.index = index;
    const call = confinement.run(confined, () => invokeTool(def, request.params.arguments, ctx));
    running.add(call);
    const outcome = await call.finally(() => running.delete(call));
    if (!outcome.ok) return toolError(outcome.message);
    // The declared output schema is a promise to the client: a document that breaks it is our bug, said as such.
    const checked = def.output.safeParse(outcome.json);
    if (!checked.success) return toolError(`internal error: the ${def.name} result does not match its output schema: ${issuesLine(checked.error)}`);
    const text = jsonText(outcome.json);
    // The answer travels as one line holding the document twice (text and structured): bounded well under a client's buffer.
    if (text.length > MAX_ANSWER_CHARS) return toolError(tooLarge(def.name, text.length));
    return { content: [{ type: 'text', text }], structuredContent: outcome.json as Record<string, unknown> };
  });
  registerMappingResources(server, opts.root, () => index, () => roots.current());
  return { server, idle: async () => { while (running.size) await Promise.allSettled([...running]); } };
}

/**
 * The largest document an answer carries: twice this (text and structured content, JSON-escaped)
 * stays well under the 10 MiB the SDK's stdio client reads as one message.
 */
export const MAX_ANSWER_CHARS = 2 * 2 ** 20;

function tooLarge(tool: string, chars: number): string {
  const mib = (chars / 2 ** 20).toFixed(1);
  const how = tool === 'keys' ? 'ask for fewer with limit or filter' : tool === 'check' ? 'ask for fewer with limit'
    : tool === 'map' ? 'give output to write the mapping to a file, then check it' : 'compare smaller parts';
  return `${tool}: the answer would be ${mib} MiB, over the ${MAX_ANSWER_CHARS / 2 ** 20} MiB an answer may be: ${how}`;
}

function toolError(message: string): CallToolResult {
  return { isError: true, content: [{ type: 'text', text: message }] };
}

/** A tool as tools/list shows it: JSON Schema (draft 7, what MCP clients validate with) for input and output. */
export function toolListing(def: ToolDefinition): Tool {
  return {
    name: def.name,
    title: def.title,
    description: def.description,
    inputSchema: jsonSchema(def.input, 'input') as Tool['inputSchema'],
    outputSchema: jsonSchema(def.output, 'output') as Tool['outputSchema'],
    annotations: { title: def.title, readOnlyHint: def.readOnly, destructiveHint: false, idempotentHint: def.readOnly, openWorldHint: false },
  };
}

export function jsonSchema(schema: z.ZodType, io: 'input' | 'output'): Record<string, unknown> {
  // Without `$schema`: a tool's schemas are part of its listing, not documents of their own.
  const doc: Record<string, unknown> = { ...z.toJSONSchema(schema, { target: 'draft-7', io }) };
  delete doc.$schema;
  return doc;
}

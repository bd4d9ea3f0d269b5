import { ErrorCode } from '@modelcontextprotocol/sdk/types.js';

/**
 * A protocol error (the client asked for something that is not there). Not McpError: its message
 * carries "MCP error -32602:", which the client's McpError then says a second time.
 */
export function invalidParams(message: string): Error {
  return Object.assign(new Error(message), { code: ErrorCode.InvalidParams });
}

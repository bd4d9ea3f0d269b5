/**
 * `$/cancelRequest` honoured for every request: one the client cancelled while it was still queued is
 * answered at once without running, and a result computed after a cancel is replaced by the
 * RequestCancelled error LSP asks for, so a stale completion or hover never reaches the editor.
 * Long requests (parity, mapping generation) also check the token between their own stages.
 */
import { CancellationToken, LSPErrorCodes, ResponseError } from 'vscode-languageserver/node';

export function cancelledError(): ResponseError<void> {
  return new ResponseError(LSPErrorCodes.RequestCancelled, 'request cancelled');
}

export function honourCancel<A extends unknown[], R>(handler: (...args: A) => R | Promise<R>): (...args: A) => Promise<R | ResponseError<void>> {
  return async (...args: A) => {
    const token = args.find((a): a is CancellationToken => CancellationToken.is(a));
    if (token?.isCancellationRequested) return cancelledError();
    const result = await handler(...args);
    return token?.isCancellationRequested ? cancelledError() : result;
  };
}

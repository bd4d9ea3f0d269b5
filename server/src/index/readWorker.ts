/**
 * The body of a read-pool worker thread: reads one checkpoint header per message and posts back the
 * CheckpointInfo (its tensors packed into a TensorTable) or the ReaderError's fields (class instances
 * do not cross threads).
 */
import { parentPort } from 'node:worker_threads';
import { readCheckpoint } from '../formats/readCheckpoint';
import { ReaderError } from '../formats/readerError';
import type { ReadReply, ReadRequest } from './readPool';
import { encodeTensors } from './tensorTable';

parentPort?.on('message', (req: ReadRequest) => {
  readCheckpoint(req.file, { displayName: req.displayName, maxHeaderBytes: req.maxHeaderBytes, kind: req.kind }).then(
    (info) => {
      const { table, transfer } = encodeTensors(info.tensors);
      const reply: ReadReply = { id: req.id, ok: true, info: { ...info, tensors: [] }, table };
      parentPort!.postMessage(reply, transfer);
    },
    (e: unknown) => {
      // readCheckpoint only throws ReaderError; anything else is a bug we still report as this file's reason.
      const err = e instanceof ReaderError ? e : new ReaderError('unreadable-checkpoint', req.displayName, String(e));
      const reply: ReadReply = { id: req.id, ok: false, error: { code: err.code, file: err.file, reason: err.reason, offset: err.offset } };
      parentPort!.postMessage(reply);
    },
  );
});

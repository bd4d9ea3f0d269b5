// The tfjs side of tfjs.bench.ts: what loading a model.json costs in Node with @tensorflow/tfjs (pure JS;
// file:// needs tfjs-node) — parse the JSON, read every shard, decode every weight (tf.io.decodeWeights).
import * as tf from '@tensorflow/tfjs';
import { Buffer } from 'node:buffer';
import { readFileSync } from 'node:fs';
import * as path from 'node:path';

const file = process.argv[2];
const json = JSON.parse(readFileSync(file, 'utf8'));
const group = json.weightsManifest[0];
const data = Buffer.concat(group.paths.map((p) => readFileSync(path.join(path.dirname(file), p))));
const weights = tf.io.decodeWeights(data.buffer.slice(data.byteOffset, data.byteOffset + data.length), group.weights);
console.log(Object.keys(weights).length);

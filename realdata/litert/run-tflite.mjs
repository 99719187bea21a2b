// Runs a .tflite file in LiteRT (the TFLite runtime, npm @litertjs/core, XNNPACK in WebAssembly) as an independent
// reader of the files tinyptq writes. Usage:
//   node run-tflite.mjs NODE_MODULES_DIR MODEL.tflite < inputs > outputs
// stdin: samples back to back in the model's first input's shape and type (float32, little-endian); stdout: for
// each sample, every output tensor's values back to back (float32, little-endian). Logs go to stderr.
import fs from 'node:fs';
import path from 'node:path';
import vm from 'node:vm';
import {createRequire} from 'node:module';

const [modulesDir, modelFile] = process.argv.slice(2);
if (!modulesDir || !modelFile) {
  console.error('usage: node run-tflite.mjs NODE_MODULES_DIR MODEL.tflite < inputs > outputs');
  process.exit(2);
}
// LiteRT's loader is written for a browser (a worker's importScripts, self): give it those under node.
const wasmDir = path.join(modulesDir, '@litertjs', 'core', 'wasm');
globalThis.self = globalThis;
globalThis.__dirname = wasmDir;
globalThis.__filename = path.join(wasmDir, 'litert_wasm_internal.js');
globalThis.require = createRequire(globalThis.__filename);
globalThis.importScripts = (url) => vm.runInThisContext(fs.readFileSync(url, 'utf8'), {filename: url});
const litert = await import(path.join(modulesDir, '@litertjs', 'core', 'dist', 'index.js'));
await litert.loadLiteRt(wasmDir + '/');
const model = await litert.loadAndCompile(new Uint8Array(fs.readFileSync(modelFile)), {accelerator: 'wasm'});

const input = model.getInputDetails()[0];
if (input.dtype !== 'float32') {
  console.error(`${modelFile}: input ${input.name} is ${input.dtype}; this reader feeds float32`);
  process.exit(2);
}
const shape = Array.from(input.shape);
const size = shape.reduce((a, b) => a * b, 1);
const bytes = size * Float32Array.BYTES_PER_ELEMENT;
let pending = Buffer.alloc(0);
let count = 0;
for await (const chunk of process.stdin) {
  pending = pending.length ? Buffer.concat([pending, chunk]) : chunk;
  while (pending.length >= bytes) {
    const x = new Float32Array(size);
    new Uint8Array(x.buffer).set(pending.subarray(0, bytes));
    pending = pending.subarray(bytes);
    const tensor = new litert.Tensor(x, shape);
    const outputs = await model.run([tensor]);
    tensor.delete();
    for (const o of outputs) {
      const y = o.toTypedArray();
      if (!process.stdout.write(Buffer.from(y.buffer.slice(y.byteOffset, y.byteOffset + y.byteLength)))) {
        await new Promise((resolve) => process.stdout.once('drain', resolve));
      }
      o.delete();
    }
    count++;
  }
}
if (pending.length) {
  console.error(`${modelFile}: ${pending.length} bytes left over, not a whole sample of ${bytes}`);
  process.exit(2);
}
console.error(`run-tflite: ${count} samples through ${path.basename(modelFile)}`);

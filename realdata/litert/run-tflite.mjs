// Runs a .tflite file in LiteRT (the TFLite runtime, npm @litertjs/core, XNNPACK in WebAssembly) as an independent
// reader of the files tinyptq reads and writes. Usage:
//   node run-tflite.mjs NODE_MODULES_DIR MODEL.tflite --describe   prints the inputs and outputs as JSON
//   node run-tflite.mjs NODE_MODULES_DIR MODEL.tflite < inputs > outputs
// stdin: samples back to back in the first input's shape and type (float32 little-endian, or int8); stdout: for each
// sample, every output tensor's raw values back to back in its own type. Logs go to stderr.
import fs from 'node:fs';
import path from 'node:path';
import vm from 'node:vm';
import {createRequire} from 'node:module';

const [modulesDir, modelFile, mode] = process.argv.slice(2);
if (!modulesDir || !modelFile) {
  console.error('usage: node run-tflite.mjs NODE_MODULES_DIR MODEL.tflite [--describe] < inputs > outputs');
  process.exit(2);
}
// LiteRT's loader is written for a browser (a worker's importScripts, self): give it those under node.
const core = path.join(modulesDir, '@litertjs', 'core');
const wasmDir = path.join(core, 'wasm');
globalThis.self = globalThis;
globalThis.__dirname = wasmDir;
globalThis.__filename = path.join(wasmDir, 'litert_wasm_internal.js');
globalThis.require = createRequire(globalThis.__filename);
globalThis.importScripts = (url) => vm.runInThisContext(fs.readFileSync(url, 'utf8'), {filename: url});
const litert = await import(withInt8(path.join(core, 'dist', 'index.js')));
await litert.loadLiteRt(wasmDir + '/');
const model = await litert.loadAndCompile(new Uint8Array(fs.readFileSync(modelFile)), {accelerator: 'wasm'});

const details = (list) => list.map((t) => ({name: t.name, dtype: t.dtype, shape: Array.from(t.shape)}));
if (mode === '--describe') {
  process.stdout.write(JSON.stringify({inputs: details(model.getInputDetails()),
    outputs: details(model.getOutputDetails())}) + '\n');
  process.exit(0);
}
const TYPES = {float32: Float32Array, int8: Int8Array, uint8: Uint8Array, int32: Int32Array};
const input = model.getInputDetails()[0];
const Type = TYPES[input.dtype];
if (!Type) {
  console.error(`${modelFile}: input ${input.name} is ${input.dtype}; this reader feeds ${Object.keys(TYPES)}`);
  process.exit(2);
}
const shape = Array.from(input.shape);
const size = shape.reduce((a, b) => a * b, 1);
const bytes = size * Type.BYTES_PER_ELEMENT;
let pending = Buffer.alloc(0);
let count = 0;
for await (const chunk of process.stdin) {
  pending = pending.length ? Buffer.concat([pending, chunk]) : chunk;
  while (pending.length >= bytes) {
    const x = new Type(size);
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

// LiteRT.js 2.5.3 maps float32, int32 and uint8 tensors to typed arrays but not int8, though its runtime runs int8
// models: load a copy of its module whose type table also maps Int8Array to INT8 (written once, beside the original
// so that its own imports still resolve).
function withInt8(file) {
  const source = fs.readFileSync(file, 'utf8');
  if (source.includes('typedArrayConstructor: Int8Array')) {
    return file;
  }
  const anchor = '    elementType: ElementType.UINT8\n  }\n]);';
  if (!source.includes(anchor)) {
    console.error(`${file}: its type table is not where this reader expects it; int8 models may fail`);
    return file;
  }
  const patched = path.join(path.dirname(file), 'index-int8.js');
  if (!fs.existsSync(patched)) {
    fs.writeFileSync(patched, source.replace(anchor, '    elementType: ElementType.UINT8\n  },\n  {\n'
      + '    dtype: "int8",\n    typedArrayConstructor: Int8Array,\n    elementType: ElementType.INT8\n  }\n]);'));
  }
  return patched;
}

// Runs the real TensorFlow.js for tfjs-lstm's tests and benchmarks, on the pure-JS cpu backend
// or on wasm. Reads one JSON request on stdin, writes one JSON reply on stdout; tfjs's own
// console output goes to stderr so it never mixes with the reply.
//
// Every request may name "backend": "cpu" (the default) or "wasm". The reply is
// {"tfjs": version, "backend": the backend it ran on, "reply": ...}, or
// {"tfjs": version, "backendError": "..."} when that backend cannot start.
//
// Requests:
//   {"command": "configs", "layers": [{"className": "LSTM", "args": {...}}, ...]}
//     -> [{"config": getConfig(), "pythonic": what model.save() writes} | {"error": "..."}, ...]
//   {"command": "predict", "cases": [{"layers": [{className, args, weights: [{shape, data}]}],
//                                    "input": {"shape": [...], "data": [...]}}, ...]}
//     -> [{"outputs": [{"shape", "data"}]} | {"error": "..."}, ...]
//   {"command": "save", "folder": "/path", "layers": [{className, args}]}
//     -> {"files": [...]}: model.save() of a Sequential model, as model.json plus one shard
//   {"command": "saveFunctional", "models": [{"folder": "/path", "seed": n,
//        "inputs": [{"name", "shape", "dtype"?}],
//        "layers": [{"name", "className", "args", "inbound": [name, ...]}],
//        "outputs": [name, ...], "data": [{shape, data, dtype?}]}]}
//     -> [{"files": [...], "outputs": [{"shape", "data"}]} | {"error": "..."}]: each a
//        functional model built with tf.input / layer.apply / tf.model, weights drawn from
//        uniform(-0.5, 0.5) seeded by "seed", saved like "save", predicted on "data"
//   {"command": "load", "folders": ["/path", ...]}
//     -> [{"layers": [className, ...]} | {"error": "..."}]: tf.loadLayersModel from disk
//   {"command": "summary", "folders": ["/path", ...]}
//     -> [{"lines": [...]} | {"error": "..."}]: model.summary() of each loaded folder
//   {"command": "benchLstm", "cases": [{batch, steps, features, units, repeats}]}
//     -> [{"medianMs": ...}]: one LSTM layer's predict() timed in this process (random weights)
//   {"command": "predictFolders", "cases": [{"folder": "/path", "inputs": [{shape, data, dtype?}],
//                                          "calls": n?}]}
//     -> [{"outputs": [{"shape", "data"}]} | {"error": "..."}]: load from disk, then predict n
//        times (default 1) on that model, states carried: the outputs of every call, in order;
//        with "timeRuns": r, then r more predicts (outputs read back), each timed: "times" (ms)
// Any request may carry "companion": true: the companion package (./companion/index.js) is
// imported first, registering its layer classes for tf.loadLayersModel.
import * as fs from 'node:fs';
import * as path from 'node:path';
import * as tf from '@tensorflow/tfjs';

const log = console.log;
console.log = (...a) => console.error(...a);
console.warn = (...a) => console.error(...a);
console.info = (...a) => console.error(...a);

function readStdin() {
  return new Promise((resolve, reject) => {
    const chunks = [];
    process.stdin.on('data', (c) => chunks.push(c));
    process.stdin.on('end', () => resolve(Buffer.concat(chunks).toString('utf8')));
    process.stdin.on('error', reject);
  });
}

function makeLayer(spec) {
  const cls = tf.serialization.SerializationMap.getMap().classNameMap[spec.className];
  if (!cls) throw new Error(`unknown layer class ${spec.className}`);
  // Constructors mutate their args (LSTM stores the cell there): give each its own copy.
  const args = structuredClone(spec.args);
  // Wrappers (Bidirectional, TimeDistributed) take layer instances, RNN a cell instance:
  // build nested specs.
  for (const key of ['layer', 'backwardLayer', 'cell']) {
    const inner = args[key];
    if (inner && inner.className) {
      args[key] = makeLayer({className: inner.className, args: inner.config || {}});
    }
  }
  return new cls[0](args);
}

function layerConfigs(request) {
  return request.layers.map((spec) => {
    try {
      const layer = makeLayer(spec);
      const config = layer.getConfig();
      // JSON drops undefined, exactly as getConfig() serializes; model.save() turns it to null.
      const reply = {config: JSON.parse(JSON.stringify(config))};
      try {
        reply.pythonic = convertToPythonic(layer);
      } catch (e) {
        reply.pythonicError = String(e && e.message ? e.message : e);
      }
      return reply;
    } catch (e) {
      return {error: String(e && e.message ? e.message : e)};
    }
  });
}

function convertToPythonic(layer) {
  // The layer config exactly as model.save() writes it into model.json.
  const shape = layer.batchInputShape;
  if (shape == null) return null;
  layer.setFastWeightInitDuringBuild(true);  // toJSON needs a built layer, not its initial values
  const input = tf.input({batchShape: shape});
  const model = tf.model({inputs: input, outputs: layer.apply(input)});
  const topology = model.toJSON(null, false);
  const layers = topology.config.layers;
  return layers[layers.length - 1].config;
}

function toTensor(t, dtype = 'float32') {
  return tf.tensor(t.data, t.shape, dtype);
}

async function predict(request) {
  const replies = [];
  for (const c of request.cases) {
    try {
      const model = tf.sequential();
      for (const spec of c.layers) {
        model.add(makeLayer(spec));
      }
      c.layers.forEach((spec, i) => {
        if (spec.weights) model.layers[i].setWeights(spec.weights.map((w) => toTensor(w)));
      });
      let out = model.predict(toTensor(c.input, c.input.dtype || 'float32'));
      if (!Array.isArray(out)) out = [out];
      const outputs = [];
      for (const t of out) outputs.push({shape: t.shape, data: Array.from(await t.data())});
      replies.push({outputs});
      tf.dispose(out);
      model.dispose();
    } catch (e) {
      replies.push({error: String(e && e.message ? e.message : e)});
    }
  }
  return replies;
}

async function saveTo(model, folder) {
  // model.save() through a handler that writes model.json plus one shard, as tfjs-node does.
  fs.mkdirSync(folder, {recursive: true});
  const shard = 'group1-shard1of1.bin';
  await model.save(tf.io.withSaveHandler(async (artifacts) => {
    const modelJson = {
      modelTopology: artifacts.modelTopology,
      format: artifacts.format,
      generatedBy: artifacts.generatedBy,
      convertedBy: artifacts.convertedBy,
      weightsManifest: [{paths: [shard], weights: artifacts.weightSpecs}],
    };
    fs.writeFileSync(path.join(folder, 'model.json'), JSON.stringify(modelJson));
    fs.writeFileSync(path.join(folder, shard), Buffer.from(artifacts.weightData));
    return {modelArtifactsInfo: {dateSaved: new Date(), modelTopologyType: 'JSON'}};
  }));
  return {files: ['model.json', shard]};
}

async function save(request) {
  const model = tf.sequential();
  for (const spec of request.layers) model.add(makeLayer(spec));
  return saveTo(model, request.folder);
}

async function saveFunctional(request) {
  const replies = [];
  for (const m of request.models) {
    try {
      const tensors = {};
      const inputs = m.inputs.map((i) => tf.input({shape: i.shape, dtype: i.dtype, name: i.name}));
      m.inputs.forEach((spec, i) => { tensors[spec.name] = inputs[i]; });
      for (const spec of m.layers) {
        const inbound = spec.inbound.map((name) => tensors[name]);
        const layer = makeLayer({className: spec.className, args: {...spec.args, name: spec.name}});
        tensors[spec.name] = layer.apply(inbound.length === 1 ? inbound[0] : inbound);
      }
      const model = tf.model({inputs, outputs: m.outputs.map((name) => tensors[name])});
      model.setWeights(model.getWeights().map(
          (w, i) => tf.randomUniform(w.shape, -0.5, 0.5, 'float32', m.seed + i)));
      const reply = await saveTo(model, m.folder);
      const data = m.data.map((t) => toTensor(t, t.dtype || 'float32'));
      let out = model.predict(data.length === 1 ? data[0] : data);
      if (!Array.isArray(out)) out = [out];
      reply.outputs = [];
      for (const t of out) reply.outputs.push({shape: t.shape, data: Array.from(await t.data())});
      replies.push(reply);
      tf.dispose([out, data]);
      model.dispose();
    } catch (e) {
      replies.push({error: String(e && e.message ? e.message : e)});
    }
  }
  return replies;
}

function diskHandler(folder) {
  // tfjs-node's file:// handler is not in the pure-JS package; this reads the same files.
  return {
    load: async () => {
      const modelJson = JSON.parse(fs.readFileSync(path.join(folder, 'model.json'), 'utf8'));
      const specs = [];
      const buffers = [];
      for (const group of modelJson.weightsManifest || []) {
        specs.push(...group.weights);
        for (const p of group.paths) buffers.push(fs.readFileSync(path.join(folder, p)));
      }
      const data = Buffer.concat(buffers);
      return {
        modelTopology: modelJson.modelTopology,
        weightSpecs: specs,
        weightData: data.buffer.slice(data.byteOffset, data.byteOffset + data.byteLength),
        format: modelJson.format,
        generatedBy: modelJson.generatedBy,
        convertedBy: modelJson.convertedBy,
      };
    },
  };
}

async function load(request) {
  const replies = [];
  for (const folder of request.folders) {
    try {
      const model = await tf.loadLayersModel(diskHandler(folder));
      replies.push({layers: model.layers.map((l) => l.getClassName())});
      model.dispose();
    } catch (e) {
      replies.push({error: String(e && e.message ? e.message : e)});
    }
  }
  return replies;
}

async function summaries(request) {
  const replies = [];
  for (const folder of request.folders) {
    try {
      const model = await tf.loadLayersModel(diskHandler(folder));
      const lines = [];
      model.summary(undefined, undefined, (line) => lines.push(line));
      replies.push({lines});
      model.dispose();
    } catch (e) {
      replies.push({error: String(e && e.message ? e.message : e)});
    }
  }
  return replies;
}

async function benchLstm(request) {
  // After one warm-up, timed runs: at least minRepeats, then more while the case stays within
  // budgetMs, up to repeats. A warm-up over longRunMs is itself the one timed run: tfjs has no
  // tracing to warm, and its first-call costs are well under 1% of such a run.
  const replies = [];
  for (const c of request.cases) {
    const model = tf.sequential({layers: [tf.layers.lstm({
      units: c.units, inputShape: [c.steps, c.features], recurrentActivation: 'sigmoid',
      kernelInitializer: 'zeros', recurrentInitializer: 'zeros'})]});
    model.setWeights(model.getWeights().map((w) => tf.randomNormal(w.shape, 0, 0.05)));
    const x = tf.randomNormal([c.batch, c.steps, c.features]);
    const once = async () => {
      const start = process.hrtime.bigint();
      const y = model.predict(x, {batchSize: c.batch});
      await y.data();
      y.dispose();
      return Number(process.hrtime.bigint() - start) / 1e6;
    };
    const warmMs = await once();
    const long = warmMs > (c.longRunMs ?? Infinity);
    const budgetMs = long ? 0 : (c.budgetMs ?? Infinity);
    const minRepeats = long ? 0 : (c.minRepeats ?? c.repeats);
    const times = long ? [warmMs] : [];
    let spentMs = warmMs;
    while (times.length < c.repeats &&
           (times.length < minRepeats || spentMs + warmMs <= budgetMs)) {
      times.push(await once());
      spentMs += times[times.length - 1];
    }
    times.sort((a, b) => a - b);
    const mid = times.length / 2;
    const medianMs = times.length % 2 ? times[Math.floor(mid)] : (times[mid - 1] + times[mid]) / 2;
    replies.push({medianMs, runs: times.length, warmMs});
    x.dispose();
    model.dispose();
  }
  return replies;
}

async function predictFolders(request) {
  const replies = [];
  for (const c of request.cases) {
    try {
      const model = await tf.loadLayersModel(diskHandler(c.folder));
      const inputs = c.inputs.map((t) => toTensor(t, t.dtype || 'float32'));
      const outputs = [];
      for (let call = 0; call < (c.calls || 1); call++) {
        let out = model.predict(inputs.length === 1 ? inputs[0] : inputs);
        if (!Array.isArray(out)) out = [out];
        for (const t of out) outputs.push({shape: t.shape, data: Array.from(await t.data())});
        tf.dispose(out);
      }
      const times = [];
      for (let run = 0; run < (c.timeRuns || 0); run++) {
        const start = performance.now();
        let out = model.predict(inputs.length === 1 ? inputs[0] : inputs);
        if (!Array.isArray(out)) out = [out];
        for (const t of out) await t.data();
        times.push(performance.now() - start);
        tf.dispose(out);
      }
      replies.push(c.timeRuns ? {outputs, times} : {outputs});
      tf.dispose(inputs);
      model.dispose();
    } catch (e) {
      replies.push({error: String(e && e.message ? e.message : e)});
    }
  }
  return replies;
}

// Backends beyond the cpu one that @tensorflow/tfjs registers, loaded only when asked for.
const BACKEND_MODULES = {wasm: '@tensorflow/tfjs-backend-wasm'};

async function startBackend(name) {
  // null once tfjs runs on `name`, else why it cannot.
  try {
    if (BACKEND_MODULES[name]) await import(BACKEND_MODULES[name]);
    if (!(await tf.setBackend(name))) return `tf.setBackend('${name}') failed`;
    await tf.ready();
    return null;
  } catch (e) {
    return String(e && e.message ? e.message : e);
  }
}

const request = JSON.parse(await readStdin());
if (request.companion) await import('./companion/index.js');
const backendError = await startBackend(request.backend || 'cpu');
if (backendError !== null) {
  process.stdout.write(JSON.stringify({tfjs: tf.version.tfjs, backendError}));
  log.call(console, '');
  process.exit(0);
}
let reply;
if (request.command === 'configs') reply = layerConfigs(request);
else if (request.command === 'predict') reply = await predict(request);
else if (request.command === 'save') reply = await save(request);
else if (request.command === 'saveFunctional') reply = await saveFunctional(request);
else if (request.command === 'load') reply = await load(request);
else if (request.command === 'summary') reply = await summaries(request);
else if (request.command === 'benchLstm') reply = await benchLstm(request);
else if (request.command === 'predictFolders') reply = await predictFolders(request);
else reply = {error: `unknown command ${request.command}`};
process.stdout.write(JSON.stringify({tfjs: tf.version.tfjs, backend: tf.getBackend(), reply}));
log.call(console, '');

// Runs TensorFlow.js in headless Chromium for tfjs-lstm: the webgl backends Node has no GPU for
// (webgl, and webgl with float16 textures forced, as on devices without float32 render targets),
// and cpu and wasm as a browser runs them (wasm: the page loads tf-backend-wasm.min.js and its
// .wasm files from "wasmPaths", the package's dist/ folder).
// The page (written by tfjs_lstm/browser.py) holds one request in <script id="request">:
//   {"backend": "webgl" | "webgl-f16" | "cpu" | "wasm", "wasmPaths": "file:///.../dist/",
//    "companion": "file:///.../companion/index.js" | null,
//    "cases": [{"model": {"modelJson": {...}, "weights": base64 of the shards in order},
//               "inputs": [{shape, data, dtype?}], "calls": n, "timeRuns": r?}]}
// (with timeRuns, r more predicts after the calls, each timed: "times" in ms, as harness.mjs;
// with "companion", the companion package is imported first: the page's import map resolves its
// '@tensorflow/tfjs' to this page's tf, so its classes register where loadLayersModel looks)
// and this script writes the reply into <pre id="reply">, in the form js/harness.mjs prints:
//   {"tfjs", "backend", "reply": [{"outputs": [{shape, data}]} | {"error": "..."}]}
//   or {"tfjs", "backendError": "..."} when the backend cannot start.
(async () => {
  const request = JSON.parse(document.getElementById('request').textContent);
  const write = (value) => {
    document.getElementById('reply').textContent = JSON.stringify({tfjs: tf.version.tfjs, ...value});
  };
  const message = (e) => String(e && e.message ? e.message : e);
  // webgl-f16 is webgl with float16 textures; cpu and wasm run here as in Node (--browser).
  const name = request.backend === 'webgl-f16' ? 'webgl' : request.backend;
  try {
    if (request.backend === 'webgl-f16') tf.env().set('WEBGL_FORCE_F16_TEXTURES', true);
    if (name === 'wasm') tf.wasm.setWasmPaths(request.wasmPaths);
    if (!(await tf.setBackend(name))) {
      write({backendError: `tf.setBackend('${name}') failed in this browser`});
      return;
    }
    await tf.ready();
  } catch (e) {
    write({backendError: message(e)});
    return;
  }
  const f16 = tf.env().getBool('WEBGL_FORCE_F16_TEXTURES');
  let companionError = null;
  if (request.companion) {
    try {
      await import(request.companion);
    } catch (e) {
      companionError = `the companion package failed to load: ${message(e)}`;
    }
  }
  const replies = [];
  for (const c of request.cases) {
    try {
      if (companionError) throw new Error(companionError);
      const bytes = Uint8Array.from(atob(c.model.weights), (ch) => ch.charCodeAt(0));
      const json = c.model.modelJson;
      const model = await tf.loadLayersModel(tf.io.fromMemory({
        modelTopology: json.modelTopology,
        weightSpecs: json.weightsManifest.flatMap((group) => group.weights),
        weightData: bytes.buffer,
      }));
      const inputs = c.inputs.map((t) => tf.tensor(t.data, t.shape, t.dtype || 'float32'));
      const outputs = [];
      for (let call = 0; call < (c.calls || 1); call++) {
        let out = model.predict(inputs.length === 1 ? inputs[0] : inputs);
        if (!Array.isArray(out)) out = [out];
        // dataSync: headless Chromium's virtual time would race an async read's polling.
        for (const t of out) outputs.push({shape: t.shape, data: Array.from(t.dataSync())});
        tf.dispose(out);
      }
      const times = [];
      for (let run = 0; run < (c.timeRuns || 0); run++) {
        const start = performance.now();
        let out = model.predict(inputs.length === 1 ? inputs[0] : inputs);
        if (!Array.isArray(out)) out = [out];
        for (const t of out) t.dataSync();
        times.push(performance.now() - start);
        tf.dispose(out);
      }
      replies.push(c.timeRuns ? {outputs, times} : {outputs});
      tf.dispose(inputs);
      model.dispose();
    } catch (e) {
      replies.push({error: message(e)});
    }
  }
  write({backend: f16 ? 'webgl-f16' : tf.getBackend(), reply: replies});
})();

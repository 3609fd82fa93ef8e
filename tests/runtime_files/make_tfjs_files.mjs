// Writes the models of tfjs-layers' own tests (tfjs-v4.22.0, tfjs-layers/src/layers/
// recurrent_test.ts and wrappers_test.ts) with model.save(), weights as their initializers made them, so the tests
// here can reproduce those tests' numbers from files TensorFlow.js itself wrote.
// Run: node tests/runtime_files/make_tfjs_files.mjs (tfjs is resolved from js/node_modules).
import * as fs from 'node:fs';
import {createRequire} from 'node:module';
import * as path from 'node:path';

const here = path.dirname(new URL(import.meta.url).pathname);
const tf = createRequire(path.join(here, '..', '..', 'js', 'package.json'))('@tensorflow/tfjs');

async function save(model, name) {
  const folder = path.join(here, name);
  fs.mkdirSync(folder, {recursive: true});
  const shard = 'group1-shard1of1.bin';
  await model.save(tf.io.withSaveHandler(async (artifacts) => {
    fs.writeFileSync(path.join(folder, 'model.json'), JSON.stringify({
      modelTopology: artifacts.modelTopology, format: artifacts.format,
      generatedBy: artifacts.generatedBy, convertedBy: artifacts.convertedBy,
      weightsManifest: [{paths: [shard], weights: artifacts.weightSpecs}]}));
    fs.writeFileSync(path.join(folder, shard), Buffer.from(artifacts.weightData));
    return {modelArtifactsInfo: {dateSaved: new Date(), modelTopologyType: 'JSON'}};
  }));
}

// 'With mask and a nested model'.
const model = tf.sequential();
model.add(tf.layers.reshape({targetShape: [6], inputShape: [6]}));
const nested = tf.sequential();
nested.add(tf.layers.embedding({inputDim: 10, outputDim: 4, inputLength: 6, maskZero: true,
                                embeddingsInitializer: 'ones'}));
nested.add(tf.layers.lstm({units: 3, recurrentInitializer: 'ones', kernelInitializer: 'ones',
                           biasInitializer: 'zeros'}));
model.add(nested);
model.add(tf.layers.dense({units: 1, kernelInitializer: 'ones', biasInitializer: 'zeros'}));
await save(model, 'tfjs-recurrent_test-nested-model');

// 'StackedRNNCells Tensor' / 'Forward pass', in a model taking a [2, 3, 4] batch.
const cells = [
  tf.layers.simpleRNNCell({units: 3, recurrentInitializer: 'ones', kernelInitializer: 'ones',
                           useBias: false}),
  tf.layers.gruCell({units: 2, recurrentInitializer: 'ones', kernelInitializer: 'ones',
                     useBias: false}),
  tf.layers.lstmCell({units: 1, recurrentInitializer: 'ones', kernelInitializer: 'ones',
                      useBias: false}),
];
const input = tf.input({batchShape: [2, 3, 4]});
const stacked = tf.layers.rnn({cell: tf.layers.stackedRNNCells({cells})});
await save(tf.model({inputs: input, outputs: stacked.apply(input)}),
           'tfjs-recurrent_test-stacked-rnn-cells');

// wrappers_test.ts 'Bidirectional Layer: Tensor' / 'No returnState, mergeMode=concat|mul'.
for (const mergeMode of ['concat', 'mul']) {
  const bidi = tf.sequential();
  bidi.add(tf.layers.bidirectional({
    layer: tf.layers.simpleRNN({units: 3, kernelInitializer: 'ones',
                                recurrentInitializer: 'ones', useBias: false}),
    mergeMode, inputShape: [4, 2]}));
  await save(bidi, `tfjs-wrappers_test-bidirectional-${mergeMode}`);
}

// wrappers_test.ts 'Bidirectional with masking' / 'Inference simpleRNN|lstm'.
for (const [name, rnnLayer] of [['simple-rnn', tf.layers.simpleRNN], ['lstm', tf.layers.lstm]]) {
  const masked = tf.sequential();
  masked.add(tf.layers.embedding({inputLength: 2, inputDim: 3, outputDim: 3,
                                  embeddingsInitializer: 'ones', maskZero: true}));
  masked.add(tf.layers.bidirectional({
    layer: rnnLayer({units: 4, kernelInitializer: 'ones', recurrentInitializer: 'ones'})}));
  masked.add(tf.layers.dense({units: 1, kernelInitializer: 'ones'}));
  await save(masked, `tfjs-wrappers_test-bidirectional-masking-${name}`);
}

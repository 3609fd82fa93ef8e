// Keras's attention layers, which TensorFlow.js 4.22 lacks, at inference as Keras 3.15 computes
// them (keras/src/layers/attention/{attention,additive_attention,multi_head_attention}.py).
//
// TfjsLstmAttention (Luong: dot or concat scores) and TfjsLstmAdditiveAttention (Bahdanau) take
// [query, value] or [query, value, key] (key defaults to value). Scores (batch, Tq, Tv): dot
// `query @ key^T` (times the scalar `scale` with useScale), concat
// `concat_score_weight * sum(tanh(scale * (q + k)))`, additive `sum(scale * tanh(q + k))`.
// Positions the value mask or the causal mask hide get `scores - 1e9`; softmax over Tv, times
// value; the query mask zeroes its rows and is the output's mask.
//
// TfjsLstmMultiHeadAttention takes [query, value] or [query, value, key]; the projections are
// Keras's EinsumDense kernels query/key [features, heads, keyDim], value [features, heads,
// valueDim], biases [heads, dim], output [heads, valueDim, queryFeatures] with bias
// [queryFeatures]. Scores `key . (query / sqrt(keyDim))` per head over the steps axis; those
// the query, value or causal mask hide become -1e9 (Keras 3's dot_product_attention); softmax,
// combined with the values and projected back. The output carries the query's mask.
//
// Called on one tensor x, each class computes [x, x] (self-attention): tfjs's executor frees a
// tensor a layer takes twice before other layers read it, so tfjs-lstm writes such a call with
// the tensor once.
//
// `useCausalMask` is a call argument, written in the model.json inbound node's kwargs. tfjs's
// fromConfig passes those kwargs to `apply` on symbolic tensors only; `model.predict` runs the
// layer without them, so the layer keeps the value its call in the model's graph gave.
// tfjs's executor hands a layer the first input's mask only: a mask is honoured where query and
// value (and key) are one tensor, as in self-attention, and refused otherwise.
import * as tf from '@tensorflow/tfjs';

const classes = () => tf.serialization.SerializationMap.getMap().classNameMap;

function initializer(identifier, fallback) {
  // An initializer from its config ({className, config}) or tfjs name, as tfjs's own layers.
  if (identifier == null) return fallback;
  if (typeof identifier.apply === 'function') return identifier;
  if (typeof identifier === 'string') return tf.initializers[identifier]({});
  const [cls, fromConfig] = classes()[identifier.className];
  return fromConfig(cls, identifier.config || {});
}

function causalKeep(rows, cols) {
  // Query step i may attend to value step j where j <= i.
  return tf.cast(tf.linalg.bandPart(tf.ones([rows, cols]), -1, 0), 'bool');
}

function float16Storage() {
  // Whether this backend keeps values as float16: tfjs's webgl without float32 render targets
  // (or with WEBGL_FORCE_F16_TEXTURES). Keras's float16 masking constants apply there, as they
  // would for a float16 Keras model: its float32 ones are out of float16's range (NaN in webgl).
  return tf.getBackend() === 'webgl' && !tf.env().getBool('WEBGL_RENDER_FLOAT32_ENABLED');
}

function maskedSoftmax(scores, keep) {
  // Keras: scores -= 1e9 (65504 in float16) where the mask hides a position, then softmax over
  // the last axis. Chosen by tf.where rather than as `scores - 1e9 * hidden`: the same numbers,
  // and no 0 * Infinity in float16.
  if (keep != null) {
    const hidden = tf.sub(scores, float16Storage() ? 65504 : 1e9);
    scores = tf.where(tf.broadcastTo(keep, scores.shape), scores, hidden);
  }
  return tf.softmax(scores, -1);
}

function shapes(inputShape) {
  // [query, value(, key)] shapes; one shape stands for [x, x].
  return Array.isArray(inputShape[0]) ? inputShape : [inputShape, inputShape];
}

function isSymbolic(inputs) {
  return (Array.isArray(inputs) ? inputs : [inputs]).some((x) => x instanceof tf.SymbolicTensor);
}

/** Records a call argument of the model's graph, which `predict` does not pass again. */
class CalledLayer extends tf.layers.Layer {
  apply(inputs, kwargs) {
    if (isSymbolic(inputs)) {
      const causal = kwargs == null ? null :
          (kwargs.useCausalMask ?? kwargs['use_causal_mask'] ?? false);
      if (this.graphCausal != null && this.graphCausal !== Boolean(causal)) {
        throw new Error(`${this.getClassName()} '${this.name}' is called with and without ` +
                        'useCausalMask; call a separate layer for each');
      }
      this.graphCausal = Boolean(causal);
      const list = Array.isArray(inputs) ? inputs : [inputs];
      this.sameTensors = list.slice(1).every((x) => x === list[0]);
    }
    return super.apply(inputs, kwargs);
  }

  useCausalMask(kwargs) {
    const given = kwargs == null ? null : (kwargs.useCausalMask ?? kwargs['use_causal_mask']);
    return Boolean(given ?? this.graphCausal ?? false);
  }

  tensors(inputs, layerName) {
    if (!Array.isArray(inputs) || inputs.length === 1) {
      const x = Array.isArray(inputs) ? inputs[0] : inputs;
      return [x, x, x];
    }
    if (inputs.length > 3) {
      throw new Error(`${layerName} '${this.name}' is called on x, [query, value] or [query, ` +
                      `value, key], got ${inputs.length} tensors`);
    }
    return [inputs[0], inputs[1], inputs.length > 2 ? inputs[2] : inputs[1]];
  }

  masks(query, mask) {
    // [query mask, value mask]: a list as given, or the one mask tfjs's executor passes.
    if (mask == null) return [null, null];
    if (Array.isArray(mask)) return [mask[0] ?? null, mask[1] ?? null];
    if (this.sameTensors === false) {
      throw new Error(`${this.getClassName()} '${this.name}': TensorFlow.js passes a layer its ` +
                      "first input's mask only, so a mask is computed here only when query " +
                      'and value are one tensor');
    }
    if (mask.shape.length !== 2 || mask.shape[1] !== query.shape[1]) {
      throw new Error(`${this.getClassName()} '${this.name}': a mask of shape ` +
                      `[${mask.shape}] does not fit the query of shape [${query.shape}]`);
    }
    return [mask, mask];
  }

  computeMask(inputs, mask) {
    // Keras: the query's mask.
    if (mask == null) return null;
    return Array.isArray(mask) ? mask[0] ?? null : mask;
  }
}

class BaseAttention extends CalledLayer {
  constructor(args, useScaleDefault) {
    super(args);
    this.useScale = args.useScale == null ? useScaleDefault : args.useScale;
    this.dropout = args.dropout == null ? 0 : args.dropout;
    this.supportsMasking = true;
  }

  call(inputs, kwargs) {
    return tf.tidy(() => {
      const [query, value, key] = this.tensors(inputs, this.getClassName());
      const [queryMask, valueMask] = this.masks(query, kwargs == null ? null : kwargs.mask);
      const scores = this.scores(query, key);
      let keep = valueMask == null ? null : tf.expandDims(tf.cast(valueMask, 'bool'), -2);
      if (this.useCausalMask(kwargs)) {
        const causal = tf.expandDims(causalKeep(scores.shape[1], scores.shape[2]), 0);
        keep = keep == null ? causal : tf.logicalAnd(keep, causal);
      }
      let weights = maskedSoftmax(scores, keep);
      if (kwargs != null && kwargs.training && this.dropout > 0) {
        weights = tf.dropout(weights, this.dropout);
      }
      const output = tf.matMul(weights, value);
      if (queryMask == null) return output;
      return tf.mul(output, tf.expandDims(tf.cast(queryMask, output.dtype), -1));
    });
  }

  computeOutputShape(inputShape) {
    const [query, value] = shapes(inputShape);
    return [...query.slice(0, -1), value[value.length - 1]];
  }

  getConfig() {
    return {useScale: this.useScale, dropout: this.dropout, ...super.getConfig()};
  }
}

export class TfjsLstmAttention extends BaseAttention {
  constructor(args) {
    super(args, false);
    this.scoreMode = args.scoreMode == null ? 'dot' : args.scoreMode;
    if (this.scoreMode !== 'dot' && this.scoreMode !== 'concat') {
      throw new Error(`TfjsLstmAttention: scoreMode is 'dot' or 'concat', got ` +
                      `'${this.scoreMode}'`);
    }
  }

  build(inputShape) {
    this.scale = this.useScale ?
        this.addWeight('scale', [], null, tf.initializers.ones(), null, true) : null;
    this.concatScoreWeight = this.scoreMode === 'concat' ?
        this.addWeight('concat_score_weight', [], null, tf.initializers.ones(), null, true) :
        null;
    this.built = true;
  }

  scores(query, key) {
    if (this.scoreMode === 'dot') {
      const scores = tf.matMul(query, key, false, true);
      return this.scale == null ? scores : tf.mul(scores, this.scale.read());
    }
    let summed = tf.add(tf.expandDims(query, -2), tf.expandDims(key, -3));
    if (this.scale != null) summed = tf.mul(this.scale.read(), summed);
    return tf.mul(this.concatScoreWeight.read(), tf.sum(tf.tanh(summed), -1));
  }

  getConfig() {
    return {...super.getConfig(), scoreMode: this.scoreMode};
  }
}
TfjsLstmAttention.className = 'TfjsLstmAttention';
tf.serialization.registerClass(TfjsLstmAttention);

export class TfjsLstmAdditiveAttention extends BaseAttention {
  constructor(args) {
    super(args, true);
  }

  build(inputShape) {
    const query = shapes(inputShape)[0];
    const dim = query[query.length - 1];
    this.scale = this.useScale ?
        this.addWeight('scale', [dim], null, tf.initializers.glorotUniform({}), null, true) :
        null;
    this.built = true;
  }

  scores(query, key) {
    let tanh = tf.tanh(tf.add(tf.expandDims(query, -2), tf.expandDims(key, -3)));
    if (this.scale != null) tanh = tf.mul(this.scale.read(), tanh);
    return tf.sum(tanh, -1);
  }
}
TfjsLstmAdditiveAttention.className = 'TfjsLstmAdditiveAttention';
tf.serialization.registerClass(TfjsLstmAdditiveAttention);

const MHA_KEYS = ['kernelRegularizer', 'biasRegularizer', 'activityRegularizer',
                  'kernelConstraint', 'biasConstraint'];

export class TfjsLstmMultiHeadAttention extends CalledLayer {
  constructor(args) {
    super(args);
    this.numHeads = args.numHeads;
    this.keyDim = args.keyDim;
    this.valueDim = args.valueDim == null ? args.keyDim : args.valueDim;
    this.dropout = args.dropout == null ? 0 : args.dropout;
    this.useBias = args.useBias == null ? true : args.useBias;
    this.supportsMasking = true;
    const axes = args.attentionAxes;
    if (args.outputShape != null ||
        (axes != null && !(axes === 1 || (axes.length === 1 && axes[0] === 1)))) {
      throw new Error('TfjsLstmMultiHeadAttention computes outputShape null and attention ' +
                      'over the steps axis (attentionAxes null or [1]) only');
    }
    this.attentionAxes = axes == null ? null : [1];
    this.kernelInitializerConfig = args.kernelInitializer;
    this.biasInitializerConfig = args.biasInitializer;
    this.extra = Object.fromEntries(MHA_KEYS.map((key) => [key, args[key] ?? null]));
  }

  build(inputShape) {
    const [query, value] = shapes(inputShape);
    const key = shapes(inputShape).length > 2 ? inputShape[2] : value;
    const last = (shape) => shape[shape.length - 1];
    const kernelInit = initializer(this.kernelInitializerConfig,
                                   tf.initializers.glorotUniform({}));
    const biasInit = initializer(this.biasInitializerConfig, tf.initializers.zeros());
    const dense = (name, features, size) => [
      this.addWeight(`${name}/kernel`, [features, this.numHeads, size], null, kernelInit),
      this.useBias ? this.addWeight(`${name}/bias`, [this.numHeads, size], null, biasInit) :
          null];
    this.queryDense = dense('query', last(query), this.keyDim);
    this.keyDense = dense('key', last(key), this.keyDim);
    this.valueDense = dense('value', last(value), this.valueDim);
    this.outputDense = [
      this.addWeight('attention_output/kernel', [this.numHeads, this.valueDim, last(query)],
                     null, kernelInit),
      this.useBias ? this.addWeight('attention_output/bias', [last(query)], null, biasInit) :
          null];
    this.built = true;
  }

  project(x, [kernel, bias]) {
    // EinsumDense "abc,cde->abde": [batch, steps, features] to [batch, steps, heads, dim].
    const [features, heads, size] = kernel.shape;
    const flat = tf.matMul(tf.reshape(x, [-1, features]),
                           tf.reshape(kernel.read(), [features, heads * size]));
    const y = tf.reshape(flat, [x.shape[0], x.shape[1], heads, size]);
    return bias == null ? y : tf.add(y, bias.read());
  }

  call(inputs, kwargs) {
    return tf.tidy(() => {
      const [query, value, key] = this.tensors(inputs, 'TfjsLstmMultiHeadAttention');
      const [queryMask, valueMask] = this.masks(query, kwargs == null ? null : kwargs.mask);
      const scale = 1 / Math.sqrt(this.keyDim);
      const q = tf.transpose(tf.mul(this.project(query, this.queryDense), scale), [0, 2, 1, 3]);
      const k = tf.transpose(this.project(key, this.keyDense), [0, 2, 1, 3]);
      const v = tf.transpose(this.project(value, this.valueDense), [0, 2, 1, 3]);
      const scores = tf.matMul(q, k, false, true);  // [batch, heads, Tq, Tv]
      let weights = tf.softmax(this.hidden(scores, queryMask, valueMask, kwargs), -1);
      if (kwargs != null && kwargs.training && this.dropout > 0) {
        weights = tf.dropout(weights, this.dropout);
      }
      const combined = tf.transpose(tf.matMul(weights, v), [0, 2, 1, 3]);
      const [kernel, bias] = this.outputDense;
      const [heads, valueDim, features] = kernel.shape;
      const flat = tf.matMul(tf.reshape(combined, [-1, heads * valueDim]),
                             tf.reshape(kernel.read(), [heads * valueDim, features]));
      const output = tf.reshape(flat, [query.shape[0], query.shape[1], features]);
      return bias == null ? output : tf.add(output, bias.read());
    });
  }

  hidden(scores, queryMask, valueMask, kwargs) {
    // Keras 3's dot_product_attention: scores the query, value and causal masks hide, ANDed,
    // are replaced by a large negative (a fully hidden query step averages the values).
    let keep = null;
    const and = (mask) => { keep = keep == null ? mask : tf.logicalAnd(keep, mask); };
    const [, , rows, cols] = scores.shape;
    if (queryMask != null) and(tf.reshape(tf.cast(queryMask, 'bool'), [-1, 1, rows, 1]));
    if (valueMask != null) and(tf.reshape(tf.cast(valueMask, 'bool'), [-1, 1, 1, cols]));
    if (this.useCausalMask(kwargs)) and(causalKeep(rows, cols));
    if (keep == null) return scores;
    const hidden = float16Storage() ? -3e4 : -1e9;  // Keras 3's Softmax: -3e4 in float16
    return tf.where(tf.broadcastTo(keep, scores.shape), scores, tf.fill(scores.shape, hidden));
  }

  computeOutputShape(inputShape) {
    return shapes(inputShape)[0];
  }

  getConfig() {
    return {
      numHeads: this.numHeads, keyDim: this.keyDim, valueDim: this.valueDim,
      dropout: this.dropout, useBias: this.useBias, outputShape: null,
      attentionAxes: this.attentionAxes, kernelInitializer: this.kernelInitializerConfig,
      biasInitializer: this.biasInitializerConfig, ...this.extra, ...super.getConfig()};
  }
}
TfjsLstmMultiHeadAttention.className = 'TfjsLstmMultiHeadAttention';
tf.serialization.registerClass(TfjsLstmMultiHeadAttention);

/** Factories, as `tf.layers.*` makes tfjs's own layers. */
export function attention(args) {
  return new TfjsLstmAttention(args);
}

export function additiveAttention(args) {
  return new TfjsLstmAdditiveAttention(args);
}

export function multiHeadAttention(args) {
  return new TfjsLstmMultiHeadAttention(args);
}

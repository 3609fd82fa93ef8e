// tfjs-lstm-companion: layers TensorFlow.js 4 cannot compute, written on its own layer API.
//
// TfjsLstmGRU / TfjsLstmGRUCell: Keras's GRU with reset_after=true (the default of Keras 2 and
// 3), which tfjs's GRUCell refuses ("GRUCell does not support reset_after parameter set to
// true"). The math is Keras 3's `keras/src/layers/rnn/gru.py` (GRUCell.call, implementation 2)
// and tf-keras 2.21's: the reset gate multiplies the recurrent projection *after* the matrix
// product, and input and recurrent biases are separate rows of a [2, 3*units] bias. Gates are
// z, r, h in that order, as in Keras and tfjs. Every other argument and default is tfjs's own
// GRU's (the layer runs through tfjs's RNN: masks, returnSequences, returnState, goBackwards,
// stateful and initial states behave as in the built-in layers).
//
// TfjsLstmBidirectional: Keras's Bidirectional, which forces zero_output_for_mask on the
// layers it wraps (keras/src/layers/rnn/bidirectional.py): at a masked step of a returned
// sequence both directions output zeros, where tfjs's Bidirectional repeats each direction's
// previous output. Everything else is tfjs's own Bidirectional; the states are not touched.
//
// TfjsLstmAttention, TfjsLstmAdditiveAttention, TfjsLstmMultiHeadAttention: Keras's attention
// layers, which tfjs lacks (attention.js).
import * as tf from '@tensorflow/tfjs';

export * from './attention.js';

export const VERSION = '0.1.0';

const registered = tf.serialization.SerializationMap.getMap().classNameMap;
const GRUCell = registered.GRUCell[0];
const Bidirectional = registered.Bidirectional[0];

function dropoutMask(ones, rate, training) {
  // tfjs's generateDropoutMask (recurrent.ts): one mask per call of the layer, kept across steps.
  return tf.keep((training ? tf.dropout(ones, rate) : ones).clone());
}

export class TfjsLstmGRUCell extends GRUCell {
  constructor(args) {
    const resetAfter = args.resetAfter == null ? true : args.resetAfter;
    if (!resetAfter) {
      throw new Error('TfjsLstmGRUCell computes resetAfter=true only; use tf.layers.gruCell ' +
                      'for resetAfter=false');
    }
    const {resetAfter: _ignored, ...rest} = args;
    super(rest);
    this.resetAfter = true;
  }

  build(inputShape) {
    // GRUCell's weights, with Keras's reset_after bias: [input bias; recurrent bias].
    const shape = Array.isArray(inputShape[0]) ? inputShape[0] : inputShape;
    const inputDim = shape[shape.length - 1];
    this.kernel = this.addWeight(
        'kernel', [inputDim, this.units * 3], null, this.kernelInitializer,
        this.kernelRegularizer, true, this.kernelConstraint);
    this.recurrentKernel = this.addWeight(
        'recurrent_kernel', [this.units, this.units * 3], null, this.recurrentInitializer,
        this.recurrentRegularizer, true, this.recurrentConstraint);
    this.bias = this.useBias ?
        this.addWeight('bias', [2, this.units * 3], null, this.biasInitializer,
                       this.biasRegularizer, true, this.biasConstraint) :
        null;
    this.built = true;
  }

  call(inputs, kwargs) {
    return tf.tidy(() => {
      if (inputs.length !== 2) {
        throw new Error(`TfjsLstmGRUCell expects 2 input tensors (inputs, h), got ` +
                        `${inputs.length}.`);
      }
      const training = kwargs['training'] == null ? false : kwargs['training'];
      let x = inputs[0];
      let hPrev = inputs[1];
      if (0 < this.dropout && this.dropout < 1) {
        if (this.dropoutMask == null) {
          this.dropoutMask = dropoutMask(tf.onesLike(x), this.dropout, training);
        }
        x = tf.mul(x, this.dropoutMask);
      }
      if (0 < this.recurrentDropout && this.recurrentDropout < 1) {
        if (this.recurrentDropoutMask == null) {
          this.recurrentDropoutMask =
              dropoutMask(tf.onesLike(hPrev), this.recurrentDropout, training);
        }
        hPrev = tf.mul(hPrev, this.recurrentDropoutMask);
      }
      let matrixX = tf.matMul(x, this.kernel.read());
      let matrixInner = tf.matMul(hPrev, this.recurrentKernel.read());
      if (this.useBias) {
        const [inputBias, recurrentBias] = tf.unstack(this.bias.read(), 0);
        matrixX = tf.add(matrixX, inputBias);
        matrixInner = tf.add(matrixInner, recurrentBias);
      }
      const [xZ, xR, xH] = tf.split(matrixX, 3, -1);
      const [recurrentZ, recurrentR, recurrentH] = tf.split(matrixInner, 3, -1);
      const z = this.recurrentActivation.apply(tf.add(xZ, recurrentZ));
      const r = this.recurrentActivation.apply(tf.add(xR, recurrentR));
      const hh = this.activation.apply(tf.add(xH, tf.mul(r, recurrentH)));
      const h = tf.add(tf.mul(z, inputs[1]), tf.mul(tf.sub(1, z), hh));
      return [h, h];
    });
  }

  getConfig() {
    return {...super.getConfig(), resetAfter: true};
  }
}
TfjsLstmGRUCell.className = 'TfjsLstmGRUCell';
tf.serialization.registerClass(TfjsLstmGRUCell);

export class TfjsLstmGRU extends tf.layers.RNN {
  constructor(args) {
    args.cell = new TfjsLstmGRUCell(args);
    super(args);
  }

  call(inputs, kwargs) {
    return tf.tidy(() => {
      // As tfjs's GRU: fresh dropout masks for every call of the layer.
      for (const key of ['dropoutMask', 'recurrentDropoutMask']) {
        if (this.cell[key] != null) {
          tf.dispose(this.cell[key]);
          this.cell[key] = null;
        }
      }
      const mask = kwargs == null ? null : kwargs['mask'];
      const training = kwargs == null ? null : kwargs['training'];
      const initialState = kwargs == null ? null : kwargs['initialState'];
      return super.call(inputs, {mask, training, initialState});
    });
  }

  static fromConfig(cls, config) {
    return new cls(config);
  }
}
TfjsLstmGRU.className = 'TfjsLstmGRU';
tf.serialization.registerClass(TfjsLstmGRU);

/** A TfjsLstmGRU layer, as `tf.layers.gru` makes a GRU. */
export function gru(args) {
  return new TfjsLstmGRU(args);
}

/** A TfjsLstmGRUCell, for `tf.layers.rnn({cell})`, as `tf.layers.gruCell` makes a GRUCell. */
export function gruCell(args) {
  return new TfjsLstmGRUCell(args);
}

export class TfjsLstmBidirectional extends Bidirectional {
  call(inputs, kwargs) {
    return tf.tidy(() => {
      let mask = kwargs == null ? null : kwargs['mask'];
      const outputs = super.call(inputs, kwargs);
      mask = Array.isArray(mask) ? mask[0] : mask;
      if (mask == null || !this.returnSequences) {
        return outputs;
      }
      // Keras: where(mask, output, 0) on both directions, so the merged output is 0 there in
      // every merge mode; the sequences come first (two of them with mergeMode null).
      const keep = tf.expandDims(tf.cast(mask, 'bool'), -1);
      const zeroed = (y) => tf.where(tf.broadcastTo(keep, y.shape), y, tf.zerosLike(y));
      if (!Array.isArray(outputs)) {
        return zeroed(outputs);
      }
      const sequences = this.mergeMode == null ? 2 : 1;
      return outputs.map((y, index) => (index < sequences ? zeroed(y) : y));
    });
  }
}
TfjsLstmBidirectional.className = 'TfjsLstmBidirectional';
tf.serialization.registerClass(TfjsLstmBidirectional);

/** A TfjsLstmBidirectional layer, as `tf.layers.bidirectional` makes a Bidirectional. */
export function bidirectional(args) {
  return new TfjsLstmBidirectional(args);
}

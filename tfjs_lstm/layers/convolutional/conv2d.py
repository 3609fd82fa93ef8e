"""Conv2D: `activation(correlate(x, kernel) + bias)` over rows and columns.

Defaults read in Keras 3.15 `keras/src/layers/convolutional/{base_conv,conv2d}.py` (strides and
dilation_rate (1, 1), padding 'valid', data_format resolved to 'channels_last', groups 1),
tf-keras 2.21 `layers/convolutional/conv2d.py` (the same keys), Keras 2.2.4
`layers/convolutional.py` (no groups) and TensorFlow.js 4.22 `tfjs-layers/src/layers/
convolutional.ts` (kernel 'glorotNormal'; no groups; dataFormat kept, channelsFirst computed
by transposing to channelsLast and back; padding 'valid' or 'same' only, as in Keras).
"""

from __future__ import annotations

from ... import kinds as k
from ..base import Field
from .base_conv import conv_fields, conv_layer

CONV2D = conv_layer(
    "Conv2D", conv_fields("conv2d", k.SIZES_2D, k.CONV2D_PADDING,
                          Field("data_format", k.DATA_FORMAT, "channels_last")),
    "2D convolution over rows and columns; masks stop here.")

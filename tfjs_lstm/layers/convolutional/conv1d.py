"""Conv1D: `activation(correlate(x, kernel) + bias)` along the steps axis.

Defaults read in Keras 3.15 `keras/src/layers/convolutional/{base_conv,conv1d}.py` (padding
'valid', data_format resolved to 'channels_last', groups 1, kernel 'glorot_uniform'), tf-keras
2.21 `layers/convolutional/base_conv.py` (the same keys), Keras 2.2.4 `layers/convolutional.py`
(no groups) and TensorFlow.js 4.22 `tfjs-layers/src/layers/convolutional.ts` (kernel
'glorotNormal'; no groups; Conv1D's getConfig drops dataFormat, and its conv1dWithBias throws
on 'causal' padding and never transposes a channelsFirst output back). What every
convolution shares is in `base_conv.py`.
"""

from __future__ import annotations

from ... import kinds as k
from ..base import Field
from ..windows import channels_last_only
from .base_conv import conv_fields, conv_layer

KERAS = ("keras3", "keras2", "keras2.2")

FIELDS = conv_fields(
    "conv1d", k.SIZES, k.CONV_PADDING,
    Field("data_format", k.DATA_FORMAT, "channels_last", families=KERAS,
          ignored_by=("tfjs",), omit_reason=channels_last_only))


def _before_write(values: dict, family: str) -> dict[str, str]:
    if family == "tfjs" and values["padding"] == "causal":
        return {"padding": "TensorFlow.js 4.22's Conv1D throws NotImplementedError on causal "
                           "padding when called"}
    return {}


CONV1D = conv_layer("Conv1D", FIELDS, "1D convolution over the steps axis; masks stop here.",
                    before_write=_before_write)

"""onnxruntime side of `bench/runtime.py`, run inside the bench's own virtual environment.

Reads one JSON request per line on stdin and answers one JSON line on stdout:
`{"export": case.npz, "onnx": path, "layer": ..., "units": ...}` builds the Keras 3 layer with
the case's weights, exports it with tf2onnx at opset 17 and answers the graph's op types;
`{"session": path, "inputs": case.npz, "outputs": out.npz}` opens an onnxruntime CPU session
with $ONNX_THREADS intra-op threads (default 2), runs the input once (the warm-up) and writes
the output;
`{"run": true}` times one more run of that input and answers its seconds.
"""

from __future__ import annotations

import json
import os
import sys
import time

import numpy as np

OPSET = 17
THREADS = int(os.environ.get("ONNX_THREADS", "2"))


def export(request: dict) -> dict:
    """Export the case's model to ONNX; answer the sorted op types of its main graph."""
    os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")
    import keras
    import tensorflow as tf
    import tf2onnx

    data = np.load(request["export"])
    x = data["x"]
    options = {"kernel_initializer": "zeros", "recurrent_initializer": "zeros"}
    if request["layer"].startswith("GRU"):
        options["reset_after"] = request["reset_after"]
    layer = getattr(keras.layers, request["layer"])(request["units"], **options)
    model = keras.Sequential([keras.Input(x.shape[1:], batch_size=x.shape[0]), layer])
    layer.set_weights([data[name] for name in ("kernel", "recurrent", "bias")])
    function = tf.function(lambda inputs: model(inputs, training=False))
    # A free batch dimension, as models are exported: with batch 1 fixed, tf2onnx makes the
    # LSTM a Loop instead of an LSTM op.
    signature = [tf.TensorSpec((None, *x.shape[1:]), tf.float32, name="x")]
    proto, _ = tf2onnx.convert.from_function(function, input_signature=signature, opset=OPSET,
                                             output_path=request["onnx"])
    return {"ops": sorted({node.op_type for node in proto.graph.node}),
            "versions": {"tf2onnx": tf2onnx.__version__, "tensorflow": tf.__version__}}


class Session:
    """One onnxruntime session and the input it runs."""

    def __init__(self, request: dict) -> None:
        import onnxruntime

        options = onnxruntime.SessionOptions()
        options.intra_op_num_threads = THREADS
        options.inter_op_num_threads = 1
        self.session = onnxruntime.InferenceSession(request["session"], options,
                                                    providers=["CPUExecutionProvider"])
        self.feed = {self.session.get_inputs()[0].name: np.load(request["inputs"])["x"]}
        self.version = onnxruntime.__version__
        np.save(request["outputs"], self.run_once())

    def run_once(self) -> np.ndarray:
        return self.session.run(None, self.feed)[0]

    def seconds(self) -> float:
        start = time.perf_counter()
        self.run_once()
        return time.perf_counter() - start


def main() -> None:
    session = None
    for line in sys.stdin:
        request = json.loads(line)
        try:
            if "export" in request:
                reply = export(request)
            elif "session" in request:
                session = Session(request)
                reply = {"onnxruntime": session.version}
            else:
                reply = {"seconds": session.seconds()}
        except Exception as error:  # reported to the bench, which prints it in its table
            reply = {"error": f"{type(error).__name__}: {error}"[:300]}
        print(json.dumps(reply), flush=True)


if __name__ == "__main__":
    main()

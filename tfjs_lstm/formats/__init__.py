"""On-disk formats: the TensorFlow.js layers-model weights (`tfjs_weights`)."""

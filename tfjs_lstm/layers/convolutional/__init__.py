"""Convolution layers (keras/src/layers/convolutional)."""

"""Activation layers (keras/src/layers/activations)."""

"""Normalization layers (keras/src/layers/normalization)."""

"""Layers that reshape, reorder or resize their input (keras/src/layers/reshaping)."""

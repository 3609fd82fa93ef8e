"""Merge layers (keras/src/layers/merging)."""

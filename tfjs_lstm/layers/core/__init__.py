"""Core layers (keras/src/layers/core)."""

"""Layers that regularize while training, identities at inference
(keras/src/layers/regularization)."""

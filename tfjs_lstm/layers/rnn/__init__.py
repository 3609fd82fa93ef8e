"""Recurrent layers and their wrappers (keras/src/layers/rnn)."""

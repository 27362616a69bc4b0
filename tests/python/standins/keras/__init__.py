"""Test stand-in for Keras (tests/python): only what wattprint.keras uses, `keras.callbacks.Callback`."""

from keras import callbacks  # noqa: F401  (the real package exposes keras.callbacks the same way)

STAND_IN = True

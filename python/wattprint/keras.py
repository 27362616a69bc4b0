"""Keras callback marking each epoch and each evaluation as a wattprint phase.

    from wattprint.keras import WattprintCallback
    model.fit(x, y, epochs=10, validation_data=(xv, yv), callbacks=[WattprintCallback()])

Marks "epoch" from on_epoch_begin to on_epoch_end and "eval" from on_test_begin to on_test_end (the
validation inside fit(), so nested in its epoch, and every evaluate()). Works with Keras 3 (`keras`) and
with TensorFlow's Keras (`tensorflow.keras`).
"""

import wattprint

try:
    from keras.callbacks import Callback as _Callback
except ImportError:
    try:
        from tensorflow.keras.callbacks import Callback as _Callback
    except ImportError:
        raise ImportError(
            "wattprint.keras needs Keras: neither `keras` nor `tensorflow.keras` can be imported "
            "(pip install keras, or tensorflow); plain loops can use wattprint.phase() without it"
        ) from None

__all__ = ["WattprintCallback"]


class WattprintCallback(_Callback):
    """Marks epochs and evaluations as wattprint phases.

    epoch_phase: name of the phase from on_epoch_begin to on_epoch_end ("epoch"); None: not marked.
    eval_phase: name of the phase from on_test_begin to on_test_end ("eval"); None: not marked.
    Invalid names raise ValueError here. A phase still open when training ends (an exception, or
    an interruption) is closed at on_train_end when Keras calls it.
    """

    def __init__(self, epoch_phase="epoch", eval_phase="eval"):
        super().__init__()
        for name in (epoch_phase, eval_phase):
            if name is not None:
                wattprint._check_name(name)
        self.epoch_phase = epoch_phase
        self.eval_phase = eval_phase
        self._epoch_open = False
        self._eval_open = False

    def on_epoch_begin(self, epoch, logs=None):
        if self.epoch_phase is not None:
            wattprint.begin(self.epoch_phase)
            self._epoch_open = True

    def on_epoch_end(self, epoch, logs=None):
        if self._epoch_open:
            self._epoch_open = False
            wattprint.end(self.epoch_phase)

    def on_test_begin(self, logs=None):
        if self.eval_phase is not None:
            wattprint.begin(self.eval_phase)
            self._eval_open = True

    def on_test_end(self, logs=None):
        if self._eval_open:
            self._eval_open = False
            wattprint.end(self.eval_phase)

    def on_train_end(self, logs=None):
        self.on_test_end()
        self.on_epoch_end(None)

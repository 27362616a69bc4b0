"""PyTorch Lightning callback marking each training epoch and each validation as a wattprint phase.

    from wattprint.lightning import WattprintCallback
    trainer = lightning.pytorch.Trainer(max_epochs=10, callbacks=[WattprintCallback()])

Marks "epoch" from on_train_epoch_start to on_train_epoch_end and "eval" from on_validation_epoch_start to
on_validation_epoch_end (the validation of each epoch is nested in it), skipping the sanity-check validation
that runs before the first epoch. Works with `lightning` (lightning.pytorch) and with `pytorch_lightning`.
"""

import wattprint

try:
    from lightning.pytorch import Callback as _Callback
except ImportError:
    try:
        from pytorch_lightning import Callback as _Callback
    except ImportError:
        raise ImportError(
            "wattprint.lightning needs PyTorch Lightning: neither `lightning.pytorch` nor `pytorch_lightning` "
            "can be imported (pip install lightning); plain loops can use wattprint.phase() without it"
        ) from None

__all__ = ["WattprintCallback"]


class WattprintCallback(_Callback):
    """Marks training epochs and validations as wattprint phases.

    epoch_phase: name of the phase from on_train_epoch_start to on_train_epoch_end ("epoch"); None: not marked.
    eval_phase: name of the phase from on_validation_epoch_start to on_validation_epoch_end ("eval"); None: not
        marked. The sanity-check validation (trainer.sanity_checking) is never marked.
    rank_zero_only: in distributed training, only the global rank 0 process marks (every process of the run
        would otherwise begin the same epoch again).
    Invalid names raise ValueError here. Phases still open at an exception or at the end of fit are closed.
    """

    def __init__(self, epoch_phase="epoch", eval_phase="eval", rank_zero_only=True):
        super().__init__()
        for name in (epoch_phase, eval_phase):
            if name is not None:
                wattprint._check_name(name)
        self.epoch_phase = epoch_phase
        self.eval_phase = eval_phase
        self.rank_zero_only = rank_zero_only
        self._epoch_open = False
        self._eval_open = False

    def _marks(self, trainer):
        return not self.rank_zero_only or getattr(trainer, "is_global_zero", True)

    def on_train_epoch_start(self, trainer, pl_module, *args, **kwargs):
        if self.epoch_phase is not None and self._marks(trainer):
            wattprint.begin(self.epoch_phase)
            self._epoch_open = True

    def on_train_epoch_end(self, trainer, pl_module, *args, **kwargs):
        self._end_epoch()

    def on_validation_epoch_start(self, trainer, pl_module, *args, **kwargs):
        if self.eval_phase is None or getattr(trainer, "sanity_checking", False) or not self._marks(trainer):
            return
        wattprint.begin(self.eval_phase)
        self._eval_open = True

    def on_validation_epoch_end(self, trainer, pl_module, *args, **kwargs):
        self._end_eval()

    def on_exception(self, trainer, pl_module, exception, *args, **kwargs):
        self._end_eval()
        self._end_epoch()

    def on_fit_end(self, trainer, pl_module, *args, **kwargs):
        self._end_eval()
        self._end_epoch()

    def _end_epoch(self):
        if self._epoch_open:
            self._epoch_open = False
            wattprint.end(self.epoch_phase)

    def _end_eval(self):
        if self._eval_open:
            self._eval_open = False
            wattprint.end(self.eval_phase)

"""Test stand-in for lightning.pytorch: Callback (the real hooks and signatures, all no-ops) and a Trainer
whose fit() calls the callbacks' hooks in the order Lightning 2.x does: sanity-check validation first
(trainer.sanity_checking true), then per epoch the training batches, the epoch's validation (nested in the
training epoch), and on_train_epoch_end; on_exception when a hook or the step raises."""


class Callback:
    def setup(self, trainer, pl_module, stage):
        pass

    def teardown(self, trainer, pl_module, stage):
        pass

    def on_fit_start(self, trainer, pl_module):
        pass

    def on_fit_end(self, trainer, pl_module):
        pass

    def on_sanity_check_start(self, trainer, pl_module):
        pass

    def on_sanity_check_end(self, trainer, pl_module):
        pass

    def on_train_start(self, trainer, pl_module):
        pass

    def on_train_end(self, trainer, pl_module):
        pass

    def on_train_epoch_start(self, trainer, pl_module):
        pass

    def on_train_epoch_end(self, trainer, pl_module):
        pass

    def on_train_batch_start(self, trainer, pl_module, batch, batch_idx):
        pass

    def on_train_batch_end(self, trainer, pl_module, outputs, batch, batch_idx):
        pass

    def on_validation_start(self, trainer, pl_module):
        pass

    def on_validation_end(self, trainer, pl_module):
        pass

    def on_validation_epoch_start(self, trainer, pl_module):
        pass

    def on_validation_epoch_end(self, trainer, pl_module):
        pass

    def on_validation_batch_start(self, trainer, pl_module, batch, batch_idx, dataloader_idx=0):
        pass

    def on_validation_batch_end(self, trainer, pl_module, outputs, batch, batch_idx, dataloader_idx=0):
        pass

    def on_exception(self, trainer, pl_module, exception):
        pass


class Trainer:
    def __init__(self, max_epochs=3, callbacks=None, num_sanity_val_steps=2, is_global_zero=True,
                 train_batches=4, val_batches=2, fail_in_epoch=None):
        self.max_epochs = max_epochs
        self.callbacks = list(callbacks or [])
        self.num_sanity_val_steps = num_sanity_val_steps
        self.is_global_zero = is_global_zero
        self.sanity_checking = False
        self.current_epoch = 0
        self.train_batches = train_batches
        self.val_batches = val_batches
        self.fail_in_epoch = fail_in_epoch  # raise RuntimeError in that epoch's training (tests on_exception)

    def _hook(self, name, module, *args):
        for callback in self.callbacks:
            getattr(callback, name)(self, module, *args)

    def _validate(self, module, batches):
        self._hook("on_validation_start", module)
        self._hook("on_validation_epoch_start", module)
        for index in range(batches):
            self._hook("on_validation_batch_start", module, index, index)
            self._hook("on_validation_batch_end", module, None, index, index)
        self._hook("on_validation_epoch_end", module)
        self._hook("on_validation_end", module)

    def fit(self, module):
        try:
            self._hook("setup", module, "fit")
            self._hook("on_fit_start", module)
            if self.num_sanity_val_steps > 0:
                self.sanity_checking = True
                self._hook("on_sanity_check_start", module)
                self._validate(module, self.num_sanity_val_steps)
                self._hook("on_sanity_check_end", module)
                self.sanity_checking = False
            self._hook("on_train_start", module)
            for epoch in range(self.max_epochs):
                self.current_epoch = epoch
                self._hook("on_train_epoch_start", module)
                for index in range(self.train_batches):
                    self._hook("on_train_batch_start", module, index, index)
                    if self.fail_in_epoch == epoch:
                        raise RuntimeError("training step failed")
                    self._hook("on_train_batch_end", module, None, index, index)
                self._validate(module, self.val_batches)
                self._hook("on_train_epoch_end", module)
            self._hook("on_train_end", module)
            self._hook("on_fit_end", module)
            self._hook("teardown", module, "fit")
        except BaseException as exception:
            self._hook("on_exception", module, exception)
            self._hook("teardown", module, "fit")
            raise

    def validate(self, module):
        self._validate(module, self.val_batches)

"""wattprint.keras and wattprint.lightning callbacks, driven as the frameworks drive them, against the
test-side control socket server. Uses the stand-ins in tests/python/standins (on PYTHONPATH) for `keras`
and `lightning`, which Debian does not package.

Run: PYTHONPATH=<repo>/python:<repo>/tests/python/standins /usr/bin/python3 -m unittest -v test_callbacks
"""

import os
import subprocess
import sys
import tempfile
import textwrap
import unittest

import wattprint
from marker_server import MarkerServer
from test_module import RunEnvironment

PYTHON_DIR = os.path.dirname(os.path.abspath(wattprint.__file__)).rsplit(os.sep, 1)[0]

EXPECTED_FIT = ["begin epoch", "begin eval", "end eval", "end epoch"] * 3


def events(lines):
    return ["%s %s" % (line.kind, line.name) for line in lines]


def keras_fit(callback, epochs=3, steps=4, validation_steps=2, fail_in_epoch=None):
    """What keras.Model.fit does with a callback (Keras 2.x and 3.x): validation runs inside the epoch,
    after its training batches and before on_epoch_end."""
    callback.set_params({"epochs": epochs, "steps": steps, "verbose": 0})
    callback.set_model(object())
    callback.on_train_begin()
    try:
        for epoch in range(epochs):
            callback.on_epoch_begin(epoch)
            for step in range(steps):
                callback.on_train_batch_begin(step)
                if fail_in_epoch == epoch:
                    raise RuntimeError("training step failed")
                callback.on_train_batch_end(step, {"loss": 1.0})
            keras_evaluate(callback, validation_steps)
            callback.on_epoch_end(epoch, {"loss": 1.0, "val_loss": 1.0})
    finally:
        if fail_in_epoch is None:
            callback.on_train_end()


def keras_evaluate(callback, steps=2):
    callback.on_test_begin()
    for step in range(steps):
        callback.on_test_batch_begin(step)
        callback.on_test_batch_end(step, {"loss": 1.0})
    callback.on_test_end({"loss": 1.0})


class CallbackTest(unittest.TestCase):
    def setUp(self):
        self.server = MarkerServer()
        self.environment = RunEnvironment(self.server.path)
        self.environment.__enter__()

    def tearDown(self):
        self.environment.__exit__(None, None, None)
        self.server.stop()

    def received(self):
        """The lines the callbacks sent since the last call. A last mark goes down the same connection after
        theirs: once it arrived, nothing of theirs is still on the way (exact sequences, no extra lines)."""
        wattprint.begin("sentinel")
        offset = getattr(self, "offset", 0)
        lines = self.server.wait_until(lambda lines: any(line.name == "sentinel" for line in lines[offset:]))
        sentinel = next(i for i in range(offset, len(lines)) if lines[i].name == "sentinel")
        self.offset = sentinel + 1
        return lines[offset:sentinel]

    def assert_times_ordered(self, lines):
        times = [line.time_ns for line in lines]
        self.assertEqual(times, sorted(times))

    # ---- Keras ----
    def test_keras_fit_marks_three_epochs_with_nested_eval(self):
        import keras
        from wattprint.keras import WattprintCallback

        self.assertTrue(getattr(keras, "STAND_IN", False), "the test must use the stand-in keras")
        callback = WattprintCallback()
        self.assertIsInstance(callback, keras.callbacks.Callback)
        keras_fit(callback)
        lines = self.received()
        self.assertEqual(events(lines), EXPECTED_FIT)
        self.assert_times_ordered(lines)
        keras_evaluate(callback)  # model.evaluate() after fit: one eval on its own
        self.assertEqual(events(self.received()), ["begin eval", "end eval"])

    def test_keras_renamed_and_disabled_phases(self):
        from wattprint.keras import WattprintCallback

        keras_fit(WattprintCallback(epoch_phase="keras_epoch", eval_phase=None), epochs=2)
        lines = self.received()
        self.assertEqual(events(lines), ["begin keras_epoch", "end keras_epoch"] * 2)

        keras_fit(WattprintCallback(epoch_phase=None, eval_phase="validation"), epochs=2)
        self.assertEqual(events(self.received()), ["begin validation", "end validation"] * 2)

    def test_keras_invalid_phase_name_raises_at_construction(self):
        from wattprint.keras import WattprintCallback

        with self.assertRaises(ValueError):
            WattprintCallback(epoch_phase="my epoch")
        with self.assertRaises(ValueError):
            WattprintCallback(eval_phase="")

    def test_keras_epoch_left_open_by_an_interruption_is_closed_at_train_end(self):
        from wattprint.keras import WattprintCallback

        callback = WattprintCallback()
        with self.assertRaises(RuntimeError):
            keras_fit(callback, fail_in_epoch=1)
        callback.on_train_end()  # not called by fit after an exception: a later fit's, or the program's
        lines = self.received()
        self.assertEqual(events(lines),
                         ["begin epoch", "begin eval", "end eval", "end epoch", "begin epoch", "end epoch"])

    # ---- Lightning ----
    def test_lightning_fit_skips_sanity_check_and_marks_three_epochs_with_nested_eval(self):
        import lightning
        from lightning.pytorch import Trainer
        from wattprint.lightning import WattprintCallback

        self.assertTrue(getattr(lightning, "STAND_IN", False), "the test must use the stand-in lightning")
        callback = WattprintCallback()
        self.assertIsInstance(callback, lightning.pytorch.Callback)
        trainer = Trainer(max_epochs=3, callbacks=[callback], num_sanity_val_steps=2)
        trainer.fit(module=object())
        lines = self.received()
        self.assertEqual(events(lines), EXPECTED_FIT)
        self.assert_times_ordered(lines)
        trainer.validate(object())  # trainer.validate() on its own: one eval
        self.assertEqual(events(self.received()), ["begin eval", "end eval"])

    def test_lightning_renamed_and_disabled_phases(self):
        from lightning.pytorch import Trainer
        from wattprint.lightning import WattprintCallback

        Trainer(max_epochs=2, callbacks=[WattprintCallback(epoch_phase=None, eval_phase="val")]).fit(object())
        lines = self.received()
        self.assertEqual(events(lines), ["begin val", "end val"] * 2)

    def test_lightning_only_global_rank_zero_marks(self):
        from lightning.pytorch import Trainer
        from wattprint.lightning import WattprintCallback

        Trainer(max_epochs=3, callbacks=[WattprintCallback()], is_global_zero=False).fit(object())
        Trainer(max_epochs=1, callbacks=[WattprintCallback(rank_zero_only=False)], is_global_zero=False).fit(
            object())
        lines = self.received()
        # Only the second trainer (rank_zero_only=False) marked: one epoch with its eval.
        self.assertEqual(events(lines), ["begin epoch", "begin eval", "end eval", "end epoch"])

    def test_lightning_exception_closes_the_open_epoch(self):
        from lightning.pytorch import Trainer
        from wattprint.lightning import WattprintCallback

        with self.assertRaises(RuntimeError):
            Trainer(max_epochs=3, callbacks=[WattprintCallback()], fail_in_epoch=1).fit(object())
        lines = self.received()
        self.assertEqual(events(lines),
                         ["begin epoch", "begin eval", "end eval", "end epoch", "begin epoch", "end epoch"])


class ImportTest(unittest.TestCase):
    """Which framework the submodules find: each import runs in a fresh interpreter without site-packages
    (-S), with only the directories given on sys.path."""

    def run_python(self, code, *directories):
        path = [PYTHON_DIR] + list(directories)
        program = "import sys; sys.path[:0] = %r\n" % (path,) + textwrap.dedent(code)
        environment = {k: v for k, v in os.environ.items() if k != "PYTHONPATH"}
        return subprocess.run([sys.executable, "-S", "-c", program], stdout=subprocess.PIPE, env=environment,
                              stderr=subprocess.PIPE, universal_newlines=True, timeout=60)

    def test_without_keras_or_tensorflow_the_import_error_says_what_to_install(self):
        result = self.run_python("import wattprint.keras")
        self.assertNotEqual(result.returncode, 0)
        self.assertIn("ImportError: wattprint.keras needs Keras", result.stderr)
        self.assertIn("pip install keras", result.stderr)

    def test_without_lightning_the_import_error_says_what_to_install(self):
        result = self.run_python("import wattprint.lightning")
        self.assertNotEqual(result.returncode, 0)
        self.assertIn("ImportError: wattprint.lightning needs PyTorch Lightning", result.stderr)
        self.assertIn("pip install lightning", result.stderr)

    def test_plain_module_needs_no_framework(self):
        result = self.run_python("import wattprint; print(wattprint.in_run())")
        self.assertEqual(result.returncode, 0, result.stderr)

    def test_tensorflow_keras_and_pytorch_lightning_are_the_fallbacks(self):
        with tempfile.TemporaryDirectory() as directory:
            files = {
                "tensorflow/__init__.py": "",
                "tensorflow/keras/__init__.py": "",
                "tensorflow/keras/callbacks.py": "class Callback:\n    ORIGIN = 'tensorflow.keras'\n",
                "pytorch_lightning/__init__.py": "class Callback:\n    ORIGIN = 'pytorch_lightning'\n",
            }
            for name, text in files.items():
                os.makedirs(os.path.join(directory, os.path.dirname(name)), exist_ok=True)
                with open(os.path.join(directory, name), "w") as file:
                    file.write(text)
            result = self.run_python(
                """
                import wattprint.keras, wattprint.lightning
                print(wattprint.keras.WattprintCallback.ORIGIN, wattprint.lightning.WattprintCallback.ORIGIN)
                """, directory)
            self.assertEqual(result.returncode, 0, result.stderr)
            self.assertEqual(result.stdout.split(), ["tensorflow.keras", "pytorch_lightning"])


if __name__ == "__main__":
    unittest.main()

"""tiny_cnn.py, a real PyTorch training (Debian's python3-torch, CPU), against the test-side control socket
server: 3 epochs, each with "train" then "eval" nested in it, in order, from the script's own process.

Skips when `import torch` fails, unless WATTPRINT_REQUIRE_SIMULATORS=1 (CI: python3-torch is installed, so a
missing torch must fail the test instead of hiding as a skip).
"""

import os
import re
import subprocess
import sys
import unittest

from marker_server import MarkerServer

HERE = os.path.dirname(os.path.abspath(__file__))

try:
    import torch  # noqa: F401

    TORCH_ERROR = None
except Exception as error:  # ImportError, or a broken installation
    TORCH_ERROR = "%s: %s" % (type(error).__name__, error)


def torch_missing_reason():
    if TORCH_ERROR is None:
        return None
    if os.environ.get("WATTPRINT_REQUIRE_SIMULATORS") == "1":
        return None  # the test runs and fails below
    return "torch unavailable (%s); install Debian's python3-torch" % TORCH_ERROR


@unittest.skipIf(torch_missing_reason() is not None, torch_missing_reason() or "")
class TinyCnnTest(unittest.TestCase):
    def test_three_epochs_each_with_train_and_eval_nested_in_order(self):
        self.assertIsNone(TORCH_ERROR, "WATTPRINT_REQUIRE_SIMULATORS=1 but `import torch` fails")
        with MarkerServer() as server:
            environment = dict(os.environ, WATTPRINT_CONTROL_SOCKET=server.path, PYTHONDONTWRITEBYTECODE="1")
            result = subprocess.run([sys.executable, os.path.join(HERE, "tiny_cnn.py")], env=environment,
                                    stdout=subprocess.PIPE, stderr=subprocess.PIPE, universal_newlines=True,
                                    timeout=300)
            self.assertEqual(result.returncode, 0, result.stderr)
            self.assertNotIn("wattprint:", result.stderr)  # no warning: every mark went through
            epochs = re.findall(r"^Epoch (\d)/3 loss ([0-9.]+) val_loss ([0-9.]+)$", result.stdout, re.M)
            self.assertEqual([number for number, _, _ in epochs], ["1", "2", "3"], result.stdout)
            # The script exited: its connection is closed, so every line it sent has been read.
            server.wait_for_closed_connections(1)
            lines = server.lines()
        self.assertEqual(
            ["%s %s" % (line.kind, line.name) for line in lines],
            ["begin epoch", "begin train", "end train", "begin eval", "end eval", "end epoch"] * 3,
        )
        times = [line.time_ns for line in lines]
        self.assertEqual(times, sorted(times))
        self.assertEqual(len({line.connection for line in lines}), 1)
        self.assertNotEqual(lines[0].pid, os.getpid())  # sent by the script's process
        # Each epoch's train phase took real time (forward and backward passes), eval a little too.
        for epoch in range(3):
            begin_train, end_train = lines[epoch * 6 + 1], lines[epoch * 6 + 2]
            self.assertGreater(end_train.time_ns, begin_train.time_ns)


if __name__ == "__main__":
    unittest.main()

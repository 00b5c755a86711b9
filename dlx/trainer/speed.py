"""trainer.compile, trainer.channels_last and trainer.matmul_precision: applied to the net when fitting starts.

    dlx train model=resnet trainer.compile=true trainer.channels_last=true trainer.precision=bf16-mixed

`compile` compiles the net in place (`nn.Module.compile`), so checkpoints keep their plain key names and load
into an uncompiled net. `channels_last` stores 4-D weights as NHWC; convolutions then return NHWC outputs, and
the module hands them NHWC inputs (Classifier.logits). bench/speed_options.py measures each.
"""

import lightning.pytorch as L
import torch


class SpeedOptions(L.Callback):
    def __init__(self, compile: bool | str = False, channels_last: bool = False, matmul_precision: str = "highest"):
        self.compile, self.channels_last, self.matmul_precision = compile, channels_last, matmul_precision
        self._previous_precision: str | None = None

    def setup(self, trainer, pl_module, stage: str) -> None:
        self._previous_precision = torch.get_float32_matmul_precision()
        torch.set_float32_matmul_precision(self.matmul_precision)
        if self.channels_last:
            pl_module.net.to(memory_format=torch.channels_last)
            pl_module.memory_format = torch.channels_last
        if self.compile and pl_module.net._compiled_call_impl is None:  # fit, then test: compile once
            pl_module.net.compile(**({} if self.compile is True else {"backend": self.compile}))

    def teardown(self, trainer, pl_module, stage: str) -> None:
        if self._previous_precision is not None:  # a process-wide setting: leave it as it was found
            torch.set_float32_matmul_precision(self._previous_precision)

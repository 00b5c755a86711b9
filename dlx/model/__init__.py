"""Architectures: each `conf/model/<name>.yaml` names a builder `(in_shape, num_classes, **options) -> nn.Module`.

in_shape and num_classes come from the data module; the user never repeats them.
"""

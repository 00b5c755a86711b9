"""Optimizers: each `conf/optim/<name>.yaml` names a builder `(params, **options) -> torch.optim.Optimizer`."""

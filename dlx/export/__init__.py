"""Deployment: a run's model as a file other programs run, raw inputs in, class probabilities out."""


class ExportError(RuntimeError):
    """An export that was not kept (its file is removed); the message is the line `dlx export` prints."""

"""Loggers: `conf/logger/<name>.yaml` builds a callback (or a Lightning logger) that records per-epoch metrics."""

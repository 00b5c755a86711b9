"""Hyperparameter search: Optuna samplers and pruners around dlx's own training, in an SQLite study."""

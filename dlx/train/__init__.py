"""`dlx train`: the Hydra entry point, the run it drives, the report and the multirun summary."""

"""After training: pruning and int8 quantization of a run's model, into a new run (dlx compress)."""

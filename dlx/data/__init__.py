"""Data sets: each `conf/data/<name>.yaml` names a builder here returning a LightningDataModule."""

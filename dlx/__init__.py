"""dlx: config-driven deep-learning experiments.  `dlx train model=resnet aug=flip`"""

__version__ = "0.1.0"

"""RUN/metrics.csv: one row per epoch (train/val loss and accuracy, learning rate, epoch seconds).  logger=csv

The callback lives in epoch_csv.py: validating a config imports this builder, and Lightning (3-4 s) is
imported only once the config is known good.
"""


def csv_logger(filename: str = "metrics.csv"):
    from dlx.logger.epoch_csv import EpochCSV

    return EpochCSV(filename)

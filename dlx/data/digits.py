"""scikit-learn's bundled handwritten digits: 1,797 images of 8x8, 10 classes.  dlx train data=digits"""

from dlx.data.prepare import data_option
from dlx.data.source import Source


@data_option
def digits() -> Source:
    from sklearn.datasets import load_digits

    bunch = load_digits()
    x = bunch.images.reshape(-1, 1, 8, 8).astype("float32") / 16.0  # (N, C=1, H=8, W=8), pixels 0..16 -> [0, 1]
    return Source(x, bunch.target, class_names=[str(c) for c in range(10)], name="digits")

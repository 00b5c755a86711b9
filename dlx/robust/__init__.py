"""Robustness: adversarial examples (FGSM, PGD) and Gaussian noise, for `dlx eval RUN attack=...` and for
adversarial training (`reg=[adversarial]`)."""

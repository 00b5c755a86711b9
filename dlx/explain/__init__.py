"""Explainability: `dlx explain RUN method=...` (Captum attributions, permutation importance, surrogate rules)."""

"""Human-readable run reports: RUN/report.html and RUN/plots/ (matplotlib, Agg; imported only when writing)."""

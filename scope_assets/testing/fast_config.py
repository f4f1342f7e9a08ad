"""A ``scope.yaml`` for tests, the demo tests and benchmarks: feature generation on a coarse
period grid (12 cycles/day, 3 samples per peak, 10 top periods), small feature batches."""

FAST_CONFIG = """\
feature_generation:
  max_freq: 12.0
  samples_per_peak: 3
  top_n_periods: 10
  batch_size: 40
"""

"""Reports (Dagster-free, matplotlib Agg): DNN-vs-XGB comparison (``comparison``) and training
reports — label distribution, statistics, recall/precision, feature importance (``training``)."""

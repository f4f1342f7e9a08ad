"""Reports (Dagster-free, matplotlib Agg): DNN-vs-XGB comparison (``comparison``), training
reports — label distribution, statistics, recall/precision (``training``) — and XGB feature
importance (``importance``)."""

"""Training: labels, the training set, per-classifier data, training runs, the demo group.

- ``labels``                 simulator classes → SCoPe training labels; the demo tags
- ``training_set``           ``build_training_set`` (features + truth → labels), the simulated set
- ``training_data``          imputation, target (> 0.7), 81/9/10 split, scaling of one classifier
- ``classification_metrics`` SCoPe's ``_stats.json`` statistics
- ``model_training``         ``train_model`` / ``train_models`` → ``models/<alg>/<group>/<tag>/``
- ``demo_models``            the committed demo model group and its held-out rows
"""

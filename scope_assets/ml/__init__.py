"""Classifiers: training sets, XGBoost and DNN training, model files, inference (Dagster-free).

Modules (import what you need; TensorFlow is only imported when a DNN is built or loaded):

- ``labels``        simulator classes → SCoPe training labels; the demo tags
- ``training_set``  ``build_training_set`` (features + truth → labels), the simulated set
- ``dataset``       imputation, target (> 0.7), 81/9/10 split, scaling of one classifier
- ``xgb`` / ``dnn`` SCoPe's booster parameters and two-branch network
- ``train``         ``train_model`` / ``train_models`` → ``models/<alg>/<group>/<tag>/``
- ``manifest``      ``ModelManifest`` (``manifest.json``) and ``ModelError``
- ``models``        loading this project's layout and SCoPe's (``models_<alg>/...``)
- ``inference``     ``run_inference`` / ``predict_field``: streamed, SCoPe's output layout
- ``fast_impute``   the stored imputation reference applied to float matrices (vectorised)
- ``combine``       ``preds_dnn_xgb``; ``evaluate``: ROC AUC against the simulator truth
- ``script``        create-inference-script; ``demo``: the committed demo model group
- ``synthetic`` / ``testing``  synthetic feature tables and quickly trained models
"""

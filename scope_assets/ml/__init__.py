"""Classifiers: training sets, XGBoost and DNN training, model files, inference (Dagster-free).

Sub-packages and modules (import what you need; TensorFlow is only imported when a DNN is built
or loaded, through ``backends.keras_runtime``):

- ``training/``     ``labels`` (simulator classes → SCoPe labels, the demo tags), ``training_set``
                    (features + truth → labelled table), ``training_data`` (imputation, target,
                    81/9/10 split, scaling of one classifier), ``classification_metrics``,
                    ``model_training`` (``train_model`` / ``train_models``), ``demo_models``
- ``backends/``     ``registry`` (``BACKENDS = {"xgb": ..., "dnn": ...}``), ``xgb``, ``dnn``,
                    ``backend_api`` (the ``Backend`` record), ``keras_runtime``
- ``model_files/``  ``manifest``, ``scaling``, ``classifier`` (a loaded model), ``models_root``
                    (``--models-dir`` → ``$SCOPE_MODELS_DIR`` → ``models/``), ``project_layout``
                    (``<root>/<alg>/<group>/<tag>/``: writing and loading),
                    ``scope_layout`` (SCoPe's ``models_<alg>/`` files), ``either_layout``
- ``inference/``    ``field_inference`` (``run_inference`` / ``predict_field``) over
                    ``batch_reading`` → ``batch_scoring`` → ``prediction_writing``;
                    ``prediction_format`` (SCoPe's columns, ``prediction_format_problems``),
                    ``matrix_imputer``, ``combine_predictions``, ``inference_script``,
                    ``truth_evaluation``
- ``dmdt_arrays``   dm-dt columns ↔ arrays; ``model_errors``: ``ModelError``, ``InputError``

Synthetic feature tables and quickly trained models for tests live in ``scope_assets.testing``.
"""

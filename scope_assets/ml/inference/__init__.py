"""Inference: a field's features → SCoPe's prediction files, streamed in record batches.

- ``field_inference``      ``run_inference`` / ``predict_field``: reading → scoring → writing
- ``batch_reading``        open and validate the inputs, plan the columns, read ahead
- ``batch_scoring``        one record batch → one output table
- ``prediction_writing``   Parquet writer, flagged JSON, CSV copy, ``meta.json``
- ``prediction_format``    SCoPe's prediction columns and ``prediction_format_problems``
- ``matrix_imputer``       the stored imputation reference applied to float matrices
- ``combine_predictions``  ``preds_dnn_xgb``: the DNN and XGB catalogues joined
- ``inference_script``     create-inference-script
- ``truth_evaluation``     ROC AUC against the simulator's truth table
"""

"""One module per classifier algorithm, registered by name in :mod:`.registry` (``BACKENDS``).

- ``backend_api``   ``Backend`` (fit, save, load, predictor, ...) and ``FittedModel``
- ``registry``      ``BACKENDS = {"xgb": ..., "dnn": ...}`` and ``backend_for(name)``
- ``xgb`` / ``dnn`` SCoPe's booster parameters and two-branch network
- ``keras_runtime`` the one place Keras and TensorFlow are imported (their environment first)
"""

"""Model files: the manifest, loading this project's layout and SCoPe's, feature scaling.

- ``manifest``       ``ModelManifest`` (``manifest.json``)
- ``scaling``        ``FeatureStats`` and ``Scaler`` (statistics stored with a model)
- ``classifier``     ``Classifier``: a loaded model, scaled inputs → scores
- ``models_root``    the models root (``--models-dir``, ``$SCOPE_MODELS_DIR``, ``models/``)
- ``project_layout`` ``<root>/<alg>/<group>/<tag>/``: writing and loading
- ``scope_layout``   SCoPe's ``<root>/models_<alg>/<group>/<tag>/<tag>.<time>.*`` files
- ``either_layout``  models named by path or group in either layout
"""

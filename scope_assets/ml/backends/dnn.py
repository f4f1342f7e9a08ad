"""The DNN backend: SCoPe's two-branch network in Keras 3 (TensorFlow backend).

Architecture (layer names as SCoPe's ``nn.py``, so SCoPe's own ``.h5`` files and ours agree):
inputs ``features (n,)`` and ``dmdt (26, 26, 1)``;
features → Dense 256 relu ``dense_fc_1`` → Dropout .25 → Dense 32 relu ``dense_fc_2``;
dmdt → SeparableConv2D 16 3×3 relu ``conv_conv_1``, ``conv_conv_2`` → Dropout .25 → MaxPool 2 →
SeparableConv2D 32 3×3 relu ``conv_conv_3``, ``conv_conv_4`` → Dropout .25 → GlobalAvgPool;
concatenate → Dropout .4 → Dense 16 relu ``fc_1`` → Dense 1 sigmoid ``score``.

Training: binary cross-entropy, Adam with the configured learning rate *actually applied*
(SCoPe passed it under a wrong key and always trained at 3e-4), EarlyStopping on ``val_loss``
restoring the best weights, ReduceLROnPlateau (factor 0.1), class weights, fixed seeds.
"""

from __future__ import annotations

import zipfile
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np

from scope_assets.ml.backends.backend_api import Backend, FittedModel, Predict
from scope_assets.ml.backends.keras_runtime import keras_module, tensorflow_module
from scope_assets.ml.model_errors import ModelError

if TYPE_CHECKING:
    from scope_assets.ml.training.training_data import PreparedData

DMDT_INPUT_SHAPE = (26, 26, 1)
PREDICT_CHUNK = 256
"""Rows per forward pass: small enough for the convolutions to stay in cache (about 2x faster
on CPU than 2048), fixed so that a row's score never depends on the rows around it."""
FORWARD_PASSES_IN_FLIGHT = 2
"""Chunks run at once (TensorFlow releases the GIL): the small operations of one pass leave
cores idle that a second pass fills."""


@dataclass
class DNNOptions:
    epochs: int = 200
    batch_size: int = 64
    learning_rate: float = 3e-4
    epsilon: float = 1e-7
    amsgrad: bool = False
    patience: int = 20
    reduce_lr_patience: int = 10
    seed: int = 42
    verbose: int = 0


def build_dnn(n_features: int, dmdt_shape: tuple[int, int, int] = DMDT_INPUT_SHAPE):
    """SCoPe's network (uncompiled)."""
    keras = keras_module()
    layers = keras.layers
    features = keras.Input(shape=(n_features,), name="features")
    dmdt = keras.Input(shape=dmdt_shape, name="dmdt")

    x = layers.Dense(256, activation="relu", name="dense_fc_1")(features)
    x = layers.Dropout(0.25, name="dropout")(x)
    x = layers.Dense(32, activation="relu", name="dense_fc_2")(x)

    c = layers.SeparableConv2D(16, (3, 3), activation="relu", name="conv_conv_1")(dmdt)
    c = layers.SeparableConv2D(16, (3, 3), activation="relu", name="conv_conv_2")(c)
    c = layers.Dropout(0.25, name="dropout_1")(c)
    c = layers.MaxPooling2D(pool_size=(2, 2), name="max_pooling2d")(c)
    c = layers.SeparableConv2D(32, (3, 3), activation="relu", name="conv_conv_3")(c)
    c = layers.SeparableConv2D(32, (3, 3), activation="relu", name="conv_conv_4")(c)
    c = layers.Dropout(0.25, name="dropout_2")(c)
    c = layers.GlobalAveragePooling2D(name="global_average_pooling2d")(c)

    m = layers.Concatenate(name="concatenate")([x, c])
    m = layers.Dropout(0.4, name="dropout_3")(m)
    m = layers.Dense(16, activation="relu", name="fc_1")(m)
    score = layers.Dense(1, activation="sigmoid", name="score")(m)
    return keras.Model(inputs=[features, dmdt], outputs=score, name="scope_dnn")


def set_seeds(seed: int) -> None:
    """Seed Python, NumPy and TensorFlow (CPU training is then repeatable run to run)."""
    keras_module().utils.set_random_seed(seed)


@dataclass
class DNNTrainResult:
    model: Any
    epochs_run: int
    best_epoch: int
    history: dict[str, list[float]]
    learning_rate: float


def train_dnn(data: PreparedData, options: DNNOptions | None = None) -> DNNTrainResult:
    """Train the network on prepared training data."""
    options = options or DNNOptions()
    keras = keras_module()
    set_seeds(options.seed)
    model = build_dnn(len(data.features))
    optimizer = keras.optimizers.Adam(
        learning_rate=options.learning_rate, epsilon=options.epsilon, amsgrad=options.amsgrad
    )
    model.compile(
        optimizer=optimizer,
        loss="binary_crossentropy",
        metrics=["accuracy", keras.metrics.AUC(name="auc")],
    )
    train, val = data.parts["train"], data.parts["val"]
    callbacks = [
        keras.callbacks.EarlyStopping(
            monitor="val_loss", patience=options.patience, restore_best_weights=True
        ),
        keras.callbacks.ReduceLROnPlateau(
            monitor="val_loss", factor=0.1, patience=options.reduce_lr_patience
        ),
    ]
    history = model.fit(
        {"features": train.X, "dmdt": train.dmdt},
        train.y.astype(np.float32),
        validation_data=({"features": val.X, "dmdt": val.dmdt}, val.y.astype(np.float32)),
        epochs=options.epochs,
        batch_size=options.batch_size,
        class_weight=data.class_weight(),
        callbacks=callbacks,
        shuffle=True,
        verbose=options.verbose,
    )
    hist = {k: [float(v) for v in vals] for k, vals in history.history.items()}
    val_loss = hist.get("val_loss", [0.0])
    return DNNTrainResult(
        model=model,
        epochs_run=len(val_loss),
        best_epoch=int(np.argmin(val_loss)) + 1,
        history=hist,
        learning_rate=float(options.learning_rate),
    )


def save_dnn(model, path: str | Path) -> Path:
    """Save architecture and weights only (no optimizer state), as a deflated ``.keras`` zip.

    Keras writes the archive uncompressed and, for a compiled model, with the optimizer's
    slots; an inference-only copy compressed with DEFLATE is about 4x smaller and loads the same.
    """
    inputs = dict(zip(input_names(model), model.inputs, strict=True))
    fresh = build_dnn(int(inputs["features"].shape[-1]))
    fresh.set_weights(model.get_weights())
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    raw = path.with_name(f".{path.name}.raw.keras")
    try:
        fresh.save(raw)
        with (
            zipfile.ZipFile(raw) as src,
            zipfile.ZipFile(path, "w", compression=zipfile.ZIP_DEFLATED, compresslevel=9) as dst,
        ):
            for info in src.infolist():
                fixed = zipfile.ZipInfo(info.filename, date_time=(1980, 1, 1, 0, 0, 0))
                fixed.compress_type = zipfile.ZIP_DEFLATED
                dst.writestr(fixed, src.read(info.filename))
    finally:
        raw.unlink(missing_ok=True)
    return path


def _legacy_custom_objects() -> dict[str, Any]:
    """Keras 3 shims for SCoPe's Keras 2 HDF5 files: drop arguments Keras 3 no longer accepts."""
    keras = keras_module()

    class LegacySeparableConv2D(keras.layers.SeparableConv2D):
        # Keras 2 serialised the generic Conv arguments, which Keras 3's SeparableConv2D rejects
        _KERAS2_ONLY = ("groups", "kernel_initializer", "kernel_regularizer", "kernel_constraint")

        def __init__(self, *args, **kwargs):
            for key in self._KERAS2_ONLY:
                kwargs.pop(key, None)
            super().__init__(*args, **kwargs)

    return {"SeparableConv2D": LegacySeparableConv2D}


def load_keras_model(path: str | Path):
    """Load a ``.keras`` file or a SCoPe Keras 2 ``.h5`` full model, for inference only."""
    keras = keras_module()
    path = Path(path)
    custom = _legacy_custom_objects() if path.suffix.lower() in (".h5", ".hdf5") else None
    return keras.models.load_model(path, compile=False, custom_objects=custom)


def input_names(model) -> list[str]:
    names = []
    for tensor in model.inputs:
        name = getattr(tensor, "name", "") or ""
        names.append(name.split(":")[0])
    return names


def make_predictor(model) -> Predict:
    """A fast ``predict(features, dmdt) -> scores`` for a loaded model (compiled once).

    Inputs go through the model in fixed chunks so a row's score never depends on how many rows
    were passed in one call.
    """
    tf = tensorflow_module()
    names = input_names(model)
    if sorted(names) != ["dmdt", "features"]:
        raise ValueError(f"expected model inputs 'features' and 'dmdt', got {names}")

    @tf.function(reduce_retracing=True)
    def forward(features, dmdt):
        return model({"features": features, "dmdt": dmdt}, training=False)

    def chunk_scores(features: np.ndarray, dmdt, start: int) -> np.ndarray:
        """Scores of rows ``start:start + PREDICT_CHUNK``, padded to the fixed input shape that
        keeps every row's score batch-independent."""
        stop = min(len(features), start + PREDICT_CHUNK)
        m = stop - start
        f = np.zeros((PREDICT_CHUNK, features.shape[1]), dtype=np.float32)
        d = np.zeros((PREDICT_CHUNK, *DMDT_INPUT_SHAPE), dtype=np.float32)
        f[:m] = features[start:stop]
        d[:m] = np.asarray(dmdt[start:stop], dtype=np.float32).reshape(m, *DMDT_INPUT_SHAPE)
        return forward(tf.constant(f), tf.constant(d)).numpy().reshape(-1)[:m]

    def predict(features: np.ndarray, dmdt) -> np.ndarray:
        """``dmdt``: an ``(n, 26, 26[, 1])`` array or anything sliceable into one (DmdtRows)."""
        starts = range(0, len(features), PREDICT_CHUNK)
        if len(starts) < 2:
            return np.concatenate([chunk_scores(features, dmdt, s) for s in starts] or [[]])
        with ThreadPoolExecutor(FORWARD_PASSES_IN_FLIGHT) as pool:
            scores = pool.map(lambda start: chunk_scores(features, dmdt, start), starts)
            return np.concatenate(list(scores)).astype(np.float64)

    return predict


def fit(data: PreparedData, options: DNNOptions) -> FittedModel:
    """Train the network; the manifest records the options, epochs run and class weights."""
    result = train_dnn(data, options)
    params = {
        "epochs": options.epochs,
        "epochs_run": result.epochs_run,
        "best_epoch": result.best_epoch,
        "batch_size": options.batch_size,
        "learning_rate": result.learning_rate,
        "epsilon": options.epsilon,
        "amsgrad": options.amsgrad,
        "patience": options.patience,
        "reduce_lr_patience": options.reduce_lr_patience,
        "seed": options.seed,
        "class_weight": {str(k): v for k, v in data.class_weight().items()},
        "loss": "binary_crossentropy",
        "optimizer": "Adam",
    }
    return FittedModel(result.model, params)


def save(model, directory: Path, tag: str) -> Path:
    return save_dnn(model, directory / f"{tag}.keras")


def check_inputs(model, features: list[str], path: Path) -> None:
    """Inputs ``features`` (as many as ``features`` lists) and ``dmdt`` of SCoPe's shape."""
    n_features = len(features)
    names = input_names(model)
    if sorted(names) != ["dmdt", "features"]:
        raise ModelError(f"{path}: expected inputs 'features' and 'dmdt', got {names}")
    inputs = dict(zip(names, model.inputs, strict=True))
    n = inputs["features"].shape[-1]
    if n != n_features:
        raise ModelError(
            f"{path}: the network takes {n} input features but {n_features} are configured for it"
        )
    shape = tuple(inputs["dmdt"].shape[1:])
    if shape != DMDT_INPUT_SHAPE:
        raise ModelError(f"{path}: dmdt input shape {shape}, expected {DMDT_INPUT_SHAPE}")


def _check_keras_archive(path: Path) -> None:
    """A ``.keras`` file must be a whole zip archive; Keras reports a broken one as "not found"."""
    if not path.is_file():
        raise ModelError(f"model file {path} does not exist")
    if path.suffix.lower() != ".keras":
        return
    try:
        with zipfile.ZipFile(path) as archive:
            bad = archive.testzip()
    except (zipfile.BadZipFile, OSError, EOFError) as exc:
        size = path.stat().st_size
        raise ModelError(
            f"{path}: not a readable Keras model (truncated or corrupt .keras archive, "
            f"{size:,} bytes: {exc})"
        ) from None
    if bad is not None:
        raise ModelError(
            f"{path}: not a readable Keras model (member {bad!r} of the archive is corrupt)"
        )


def read(path: Path, params_path: Path | None = None):
    """A ``.keras`` or SCoPe ``.h5`` file (no parameter file)."""
    _check_keras_archive(path)
    try:
        model = load_keras_model(path)
    except Exception as exc:  # Keras raises many types for a bad file
        msg = str(exc).strip().splitlines()[0][:300] if str(exc).strip() else type(exc).__name__
        raise ModelError(f"{path}: not a readable Keras model ({msg})") from None
    return model


def scope_input_order(model, configured: list[str], path: Path) -> list[str]:
    """SCoPe's ``.h5`` files store no input names: the configured order."""
    return list(configured)


def library_versions() -> dict[str, str]:
    return {"keras": keras_module().__version__, "tensorflow": tensorflow_module().__version__}


BACKEND = Backend(
    name="dnn",
    uses_dmdt=True,
    fit=fit,
    save=save,
    read=read,
    check_inputs=check_inputs,
    scope_input_order=scope_input_order,
    predictor=make_predictor,
    library_versions=library_versions,
    scope_model_glob="*.h5",
)

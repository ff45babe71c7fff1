"""The backbone: a Fourier masked autoencoder (AI-GOMS style) and its training.

Public API (heads use only the model's public methods)::

    from backbone import FourierMAE, Forecaster, get_preset, list_presets

    model = FourierMAE(get_preset("demo"))       # normalised tensors in and out
    latent = model.encode(state, forcing)        # (b, h, w, d_enc)
    feats = model.features(state, forcing)       # (b, d_dec, h, w)
    field = model.decode(latent)                 # (b, c, lat, lon) raw output
    nxt = model.step(state, forcing)             # day t -> t+1 (forcing of day t+1)
    for s in model.rollout(state, forcings): ... # successive states

    fc = Forecaster.load("MODEL_DIR")            # physical units, ocean.Batch
    out = fc.predict(batch, steps=30)

Submodules load lazily; ``import backbone`` does not import Lightning.
"""

from __future__ import annotations

from ocean.lazy import lazy_attributes

__all__ = ["FourierMAE", "Forecaster", "ModelConfig", "get_preset", "list_presets", "register_preset"]

_LAZY = {
    "FourierMAE": "backbone.model",
    "Forecaster": "backbone.forecaster",
    "ModelConfig": "backbone.config",
    "get_preset": "backbone.config",
    "list_presets": "backbone.config",
    "register_preset": "backbone.config",
}


__getattr__ = lazy_attributes(__name__, _LAZY)

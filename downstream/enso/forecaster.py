"""``EnsoForecaster``: the Geoformer with its layout, climatology and statistics, in physical units.

A model directory is the project's format (:mod:`ocean.checkpoint`):
``model.safetensors`` holds the network's weights under ``network.`` and
the monthly climatology ``(12, channel, lat, lon)`` under ``climatology``;
``metadata.json`` holds the config, grid, levels, channels, anomaly
statistics, the climatology period, the weights' dtype and the training
provenance. Weights may be stored as float16 (the shipped model: half the
size) and are computed in float32. Loading never unpickles, and data on
another grid or other levels are refused with both sides named.
"""

from __future__ import annotations

import logging
import os

import numpy as np
import pandas as pd
import torch
import xarray as xr

from downstream.enso.config import GeoformerConfig
from downstream.enso.data import VARIABLES, Climatology, Layout, to_array, to_dataset
from downstream.enso.model import Geoformer
from ocean.checkpoint import ModelMetadata, check_compatible, load_model_dir, load_weights_into, save_model_dir
from ocean.errors import DataError
from ocean.normalize import Statistics

__all__ = ["EnsoForecaster", "KIND"]

log = logging.getLogger(__name__)

KIND = "head/enso"
_DTYPES = {"float32": torch.float32, "float16": torch.float16, "bfloat16": torch.bfloat16}


class EnsoForecaster:
    """Physical monthly fields in, physical monthly forecasts out."""

    def __init__(self, network: Geoformer, layout: Layout, climatology: Climatology, statistics: Statistics,
                 metadata: ModelMetadata | None = None):
        if tuple(statistics.channels) != layout.channels:
            raise DataError("statistics do not match the channels", found=list(statistics.channels),
                            expected=list(layout.channels))
        self.network, self.layout = network.eval(), layout
        self.climatology, self.statistics, self.metadata = climatology, statistics, metadata

    @property
    def config(self) -> GeoformerConfig:
        return self.network.config

    # -- save / load ------------------------------------------------------------
    def save(self, path: "str | os.PathLike", provenance: dict | None = None, dtype: str = "float32",
             extra: dict | None = None) -> ModelMetadata:
        """Write a model directory (weights as ``dtype``: float32, float16 or bfloat16)."""
        if dtype not in _DTYPES:
            raise DataError("unknown weights dtype", found=dtype, expected=sorted(_DTYPES))
        state = {f"network.{k}": v.to(_DTYPES[dtype]) if v.is_floating_point() else v
                 for k, v in self.network.state_dict().items()}
        state["climatology"] = torch.from_numpy(self.climatology.values.astype(np.float32))
        meta = ModelMetadata(
            kind=KIND, preset=self.config.name, config=self.config.to_dict(), variables=VARIABLES,
            grid=self.layout.grid, levels=self.layout.levels, channels=self.layout.channels,
            statistics=self.statistics, provenance=dict(provenance or {}),
            extra={"climatology_period": list(self.climatology.period), "weights_dtype": dtype,
                   "anomalies": "normalised by statistics.std after removing the monthly climatology",
                   **(extra or {})})
        self.metadata = save_model_dir(path, state, meta)
        return self.metadata

    @classmethod
    def load(cls, path: "str | os.PathLike") -> "EnsoForecaster":
        state, meta = load_model_dir(path)
        if meta.kind != KIND:
            raise DataError("not an ENSO model directory", file=path, found=f"kind {meta.kind!r}",
                            expected=f"kind {KIND!r}", hint="Train one with `ocean train enso --config ...`")
        config = GeoformerConfig.from_dict(meta.config)
        network = Geoformer(config)
        weights = {k[len("network."):]: v.float() for k, v in state.items() if k.startswith("network.")}
        load_weights_into(network, weights, path, f"{KIND} ({meta.preset})")
        period = tuple(meta.extra.get("climatology_period", ("", "")))
        clim = Climatology(state["climatology"].numpy(), period)
        layout = Layout(meta.grid, meta.levels)
        log.info("loaded ENSO model %s (%s, %s parameters, climatology %s..%s)", path, meta.preset,
                 f"{sum(p.numel() for p in network.parameters()):,}", *period)
        return cls(network, layout, clim, meta.statistics, meta)

    def check(self, layout: Layout, what: str = "data") -> None:
        """Refuse data on another grid or other levels (:class:`ocean.errors.ModelMismatchError`)."""
        if self.metadata is not None:
            check_compatible(self.metadata, levels=layout.levels, grid=layout.grid, what=what)

    # -- forecasting --------------------------------------------------------------
    def normalise(self, fields: np.ndarray, times: pd.DatetimeIndex) -> torch.Tensor:
        """Physical ``(..., month, c, h, w)`` at ``times`` -> normalised anomalies, land 0."""
        anom = self.statistics.normalise(self.climatology.anomalies(fields, times), channel_axis=-3)
        return torch.from_numpy(np.nan_to_num(anom, nan=0.0).astype(np.float32))

    def predict_anomalies(self, inputs: np.ndarray, input_times: pd.DatetimeIndex | list,
                          batch_size: int = 8) -> np.ndarray:
        """Anomalies (physical units) of the next ``output_months`` months.

        ``inputs`` ``(batch, input_months, channel, lat, lon)`` physical
        fields; ``input_times`` the months of each input (a DatetimeIndex
        shared by all, or one per batch member). Land is NaN in the result.
        """
        n = inputs.shape[0]
        times = input_times if isinstance(input_times, list) else [pd.DatetimeIndex(input_times)] * n
        x = torch.stack([self.normalise(inputs[i], times[i]) for i in range(n)])
        out = []
        with torch.no_grad():
            for i in range(0, n, batch_size):
                out.append(self.network.predict(x[i:i + batch_size]).numpy())
        pred = self.statistics.denormalise(np.concatenate(out), channel_axis=-3)
        land = ~np.isfinite(self.climatology.values[0])
        return np.where(land, np.nan, pred).astype(np.float32)

    def forecast(self, fields: xr.Dataset, init: "str | pd.Timestamp") -> xr.Dataset:
        """Forecast from the ``input_months`` months before ``init`` in ``fields`` (canonical, monthly).

        Returns anomalies and absolute fields with dims ``lead_time`` (months
        1..``output_months``), ``valid_time(lead_time)`` as a coordinate.
        """
        init = pd.Timestamp(init).to_period("M").to_timestamp()
        n_in, n_out = self.config.io.input_months, self.config.io.output_months
        months = pd.date_range(init - pd.DateOffset(months=n_in), periods=n_in, freq="MS")
        have = pd.DatetimeIndex(fields["time"].values)
        missing = months.difference(have)
        if len(missing):
            raise DataError("input months are missing", variable="time",
                            found=f"{len(have)} months {have.min():%Y-%m}..{have.max():%Y-%m}" if len(have) else "none",
                            expected=f"the {n_in} months {months[0]:%Y-%m}..{months[-1]:%Y-%m} before init {init:%Y-%m}")
        raw = to_array(fields.sel(time=months), self.layout, "the input fields")
        anom = self.predict_anomalies(raw[None], months)[0]
        valid = pd.date_range(init, periods=n_out, freq="MS")
        absolute = self.climatology.absolute(anom, valid)
        lead = ("lead_time", np.arange(1, n_out + 1), {"long_name": "lead time", "units": "months"})
        coords = {"lead_time": lead, "init_time": init, "valid_time": ("lead_time", valid.values)}
        ds = to_dataset(absolute, self.layout, coords, leading=("lead_time",))
        an = to_dataset(anom, self.layout, coords, leading=("lead_time",))
        for v in VARIABLES:
            ds[f"{v}_anomaly"] = an[v].assign_attrs(long_name=f"{an[v].attrs['long_name']} anomaly",
                                                    units=an[v].attrs["units"])
        return ds

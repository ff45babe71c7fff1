"""The downscaling head inside ``ocean forecast``: one fine field per lead, one group at the end.

The group (``FORECAST.zarr/downscaling``) is a dataset of its own with its
own regional coordinates::

    thetao, so, uo, vo  (init_time, lead_time, depth, latitude, longitude)  float32, NaN over fine land
    zos                 (init_time, lead_time, latitude, longitude)
    latitude, longitude the fine regional grid (longitude continues past 180 for a dateline box)
    depth               the head's output levels
    valid_time          (init_time, lead_time)

``open_forecasts(root, group="downscaling")`` opens it lazily like the
physics. :meth:`DownscalingRunner.predict` is the per-lead computation, for
any batch size (``benchmarks/downscaling_skill.py`` calls it on many inits).
"""

from __future__ import annotations

import dask.array as da
import numpy as np
import torch
import xarray as xr

from downstream.downscaling.model import DownscalingNet
from downstream.runtime import ForecastContext, LeadStep, forecast_coords
from ocean import variables as V
from ocean.checkpoint import ModelMetadata
from ocean.normalize import split_channel

__all__ = ["DownscalingRunner", "fields_dataset"]


def fields_dataset(fields: np.ndarray, meta: ModelMetadata, init, leads: int) -> xr.Dataset:
    """``fields (leads, c_out, y, x)`` physical -> the group's dataset (one dask chunk per lead)."""
    channels = list(meta.channels)
    data = {}
    for v in meta.variables:
        idx = [i for i, c in enumerate(channels) if split_channel(c)[0] == v]
        if V.get(v).is_3d:  # (1, lead, depth, y, x)
            arr, dims = fields[None, :, idx], ("init_time", "lead_time", "depth", "latitude", "longitude")
        else:  # (1, lead, y, x)
            arr, dims = fields[None, :, idx[0]], ("init_time", "lead_time", "latitude", "longitude")
        chunks = tuple(1 if d in ("init_time", "lead_time") else -1 for d in dims)
        data[v] = (dims, da.from_array(arr.astype(np.float32), chunks=chunks))
    coords = {**meta.grid.coords(), **forecast_coords(init, leads)}
    if meta.levels is not None:
        coords["depth"] = ("depth", meta.levels.values, meta.levels.coord_attrs())
    region = meta.provenance.get("region", {})
    attrs = {"head": meta.kind, "head_sha256": meta.weights_sha256,
             "backbone_sha256": meta.provenance.get("backbone_sha256", ""), "grid": meta.grid.describe(),
             "region": str(region), "source": "ocean-forecast downscaling head"}
    return xr.Dataset(data, coords=coords, attrs=attrs)


class DownscalingRunner:
    """Forecast-time runner (:class:`~downstream.runtime.HeadRunner`) of the downscaling head."""

    needs_features = True

    def __init__(self, head: DownscalingNet, meta: ModelMetadata, context: ForecastContext):
        self.head, self.meta, self.context = head, meta, context
        self.fields = np.full((context.leads, len(meta.channels), *meta.grid.shape), np.nan, dtype=np.float32)

    @torch.no_grad()
    def predict(self, lead: LeadStep) -> np.ndarray:
        """Physical fine fields ``(b, c_out, y, x)``, NaN over fine land, for one lead of ``b`` forecasts."""
        bb = self.context.backbone
        state = self.head.crop_state(bb.normalise_state(lead.state))
        out = self.head(self.head.select_features(lead.features), {"state": state})
        return self.head.to_physical(out).cpu().numpy()

    def step(self, lead: LeadStep) -> None:
        self.fields[lead.index] = self.predict(lead)[0]

    def result(self) -> xr.Dataset:
        return fields_dataset(self.fields, self.meta, self.context.init, self.context.leads)

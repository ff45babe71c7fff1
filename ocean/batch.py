"""``Batch``: the tensors a model sees, with the metadata that gives them meaning.

Layout (whole-word axis names at the package boundary)::

    state    (batch, time, channel, lat, lon)   float, land = 0
    forcing  (batch, time, fchannel, lat, lon)  float, defined everywhere
    mask     (channel, lat, lon)                bool, True = ocean
    time     (batch, time)                      datetime64[ns], valid times

Channels follow :func:`ocean.normalize.channel_names`: each 3-D variable
level by level (``thetao@0.5`` ... ``thetao@500``), then 2-D variables
(``zos``). The order is explicit, validated and recorded in checkpoints.

Exactly one conversion pair: :meth:`Batch.from_xarray` and
:meth:`Batch.to_xarray`. On disk land is NaN; in a Batch land is zero and
the mask says where the ocean is.
"""

from __future__ import annotations

from dataclasses import dataclass, replace
from typing import Sequence

import numpy as np
import torch
import xarray as xr
from einops import rearrange

from ocean import variables as V
from ocean.errors import DataError
from ocean.grid import Grid
from ocean.io import require_canonical
from ocean.levels import Levels
from ocean.normalize import channel_names

__all__ = ["Batch"]

_SPACE = ("latitude", "longitude")


@dataclass(eq=False)
class Batch:
    """Model input/output tensors plus their metadata; validates itself."""

    state: torch.Tensor
    mask: torch.Tensor
    time: np.ndarray
    grid: Grid
    levels: Levels | None
    variables: tuple[str, ...]
    forcing: torch.Tensor | None = None
    forcing_variables: tuple[str, ...] = ()

    def __post_init__(self) -> None:
        self.variables = tuple(self.variables)
        self.forcing_variables = tuple(self.forcing_variables)
        self.time = np.asarray(self.time, dtype="datetime64[ns]")
        self._validate()

    # -- derived metadata -------------------------------------------------------
    @property
    def channels(self) -> list[str]:
        return channel_names(self.variables, self.levels)

    @property
    def forcing_channels(self) -> list[str]:
        return channel_names(self.forcing_variables, None)

    @property
    def level_mask(self) -> torch.Tensor:
        """Ocean mask per level, ``(depth, lat, lon)``, from the first 3-D variable."""
        if self.levels is None:
            return self.mask[:1]
        first = next(i for i, v in enumerate(self.variables) if V.get(v).is_3d)
        return self.mask[first * len(self.levels):(first + 1) * len(self.levels)]

    @property
    def shape(self) -> tuple[int, ...]:
        return tuple(self.state.shape)

    def to(self, device=None, dtype=None) -> "Batch":
        f = None if self.forcing is None else self.forcing.to(device=device, dtype=dtype)
        return replace(self, state=self.state.to(device=device, dtype=dtype), forcing=f,
                       mask=self.mask.to(device=device))

    # -- validation -------------------------------------------------------------
    def _validate(self) -> None:
        s = self.state
        channels = self.channels
        expected = ("batch", "time", len(channels), *self.grid.shape)
        if s.ndim != 5 or s.shape[2] != len(channels) or tuple(s.shape[-2:]) != self.grid.shape:
            raise DataError("state has the wrong shape", found=tuple(s.shape),
                            expected=f"{expected} = (batch, time, channel, lat, lon) for channels "
                                     f"{channels[0]}..{channels[-1]} on {self.grid.describe()}")
        if not torch.is_floating_point(s):
            raise DataError("state must be floating point", found=s.dtype, expected="float32/bfloat16/float64")
        if self.mask.dtype != torch.bool or tuple(self.mask.shape) != (len(channels), *self.grid.shape):
            raise DataError("mask has the wrong shape or type", found=(tuple(self.mask.shape), self.mask.dtype),
                            expected=((len(channels), *self.grid.shape), torch.bool))
        if self.time.shape != tuple(s.shape[:2]):
            raise DataError("time has the wrong shape", found=self.time.shape,
                            expected=f"{tuple(s.shape[:2])} (batch, time)")
        _require_finite(s, channels, "state")
        if self.forcing is not None:
            f = self.forcing
            fexp = (*s.shape[:2], len(self.forcing_channels), *self.grid.shape)
            if tuple(f.shape) != fexp:
                raise DataError("forcing has the wrong shape", found=tuple(f.shape),
                                expected=f"{fexp} for {self.forcing_channels}")
            _require_finite(f, self.forcing_channels, "forcing")

    # -- xarray boundary ----------------------------------------------------------
    @classmethod
    def from_xarray(
        cls,
        ds: xr.Dataset,
        variables: Sequence[str] | None = None,
        levels: Levels | None = None,
        forcing: xr.Dataset | None = None,
        forcing_variables: Sequence[str] | None = None,
        mask: xr.DataArray | None = None,
        dtype: torch.dtype = torch.float32,
    ) -> "Batch":
        """Build a Batch from canonical datasets.

        ``ds`` has dims ``[sample,] time, [depth,] latitude, longitude`` (any
        leading dim other than those is the batch dim; ``lead_time`` is
        accepted for ``time``). ``mask`` (``depth, latitude, longitude``,
        True = ocean) defaults to ``ds["mask"]`` or to where the first time
        step is finite. NaN inside the ocean is an error.
        """
        variables = tuple(variables or [v for v in V.PROGNOSTIC if v in ds.data_vars])
        if not variables:
            raise DataError("no prognostic variables in the dataset", found=sorted(ds.data_vars),
                            expected=list(V.PROGNOSTIC))
        missing = [v for v in variables if v not in ds.data_vars]
        if missing:
            raise DataError("variables are missing", found=sorted(ds.data_vars), expected=list(variables))
        require_canonical(ds, str(ds.attrs.get("source_files", "dataset")))
        if mask is None and "mask" in ds:
            mask = ds["mask"]
        ds = _standard_dims(ds.drop_vars("mask", errors="ignore"))
        levels = _check_levels(ds, variables, levels)
        grid = Grid.from_coords(ds["latitude"].values, ds["longitude"].values)
        level_mask = _level_mask(ds, variables, levels, mask)
        chan_mask, arrays = [], []
        for v in variables:
            da = ds[v]
            if V.get(v).is_3d:
                da = da.sel(depth=list(levels.depths), method="nearest")
                arrays.append(da.values)  # (B, T, Z, H, W)
                chan_mask.append(level_mask)
            else:
                arrays.append(rearrange(da.values, "b t y x -> b t 1 y x"))
                chan_mask.append(level_mask[:1])
        state = np.concatenate(arrays, axis=2)
        cmask = np.concatenate(chan_mask, axis=0)
        channels = channel_names(variables, levels)
        _require_no_ocean_nan(state, cmask, channels, ds)
        state = np.where(cmask[None, None], state, 0.0)
        time = np.broadcast_to(ds["valid_time"].values, state.shape[:2]) if "valid_time" in ds.coords \
            else np.broadcast_to(ds["time"].values[None, :], state.shape[:2])
        f_tensor, fvars = None, ()
        if forcing is not None:
            fvars = tuple(forcing_variables or [v for v in V.FORCING if v in forcing.data_vars])
            fds = _standard_dims(forcing)
            if not np.array_equal(fds["time"].values, ds["time"].values):
                raise DataError("forcing and state times differ", variable="time",
                                found=f"forcing {fds['time'].values[[0, -1]]}",
                                expected=f"state times {ds['time'].values[[0, -1]]}")
            f_tensor = torch.as_tensor(np.stack([fds[v].values for v in fvars], axis=2), dtype=dtype)
        return cls(torch.as_tensor(state, dtype=dtype), torch.as_tensor(cmask), np.array(time), grid,
                   levels, variables, f_tensor, fvars)

    def to_xarray(self, sample_dim: str = "sample", time_dim: str = "time") -> xr.Dataset:
        """Canonical dataset: NaN over land, CF attributes, ``valid_time(sample, time)``."""
        state = self.state.detach().float().cpu().numpy()
        mask = self.mask.cpu().numpy()
        state = np.where(mask[None, None], state, np.nan).astype(np.float32)
        coords = dict(self.grid.coords())
        if self.levels is not None:
            coords["depth"] = ("depth", self.levels.values, self.levels.coord_attrs())
        coords["valid_time"] = ((sample_dim, time_dim), self.time, {"standard_name": "time"})
        data, c = {}, 0
        nz = len(self.levels) if self.levels is not None else 0
        for v in self.variables:
            var = V.get(v)
            if var.is_3d:
                data[v] = ((sample_dim, time_dim, "depth", *_SPACE), state[:, :, c:c + nz], var.cf_attrs())
                c += nz
            else:
                data[v] = ((sample_dim, time_dim, *_SPACE), state[:, :, c], var.cf_attrs())
                c += 1
        if self.forcing is not None:
            f = self.forcing.detach().float().cpu().numpy()
            for i, v in enumerate(self.forcing_variables):
                data[v] = ((sample_dim, time_dim, *_SPACE), f[:, :, i], V.get(v).cf_attrs())
        return xr.Dataset(data, coords=coords, attrs={"Conventions": "CF-1.10"})


def _standard_dims(ds: xr.Dataset) -> xr.Dataset:
    """Rename ``lead_time`` to ``time`` and make sure there is a leading sample dim."""
    if "lead_time" in ds.dims and "time" not in ds.dims:
        ds = ds.rename({"lead_time": "time"}) if "time" not in ds.variables else \
            ds.drop_vars("time").rename({"lead_time": "time"})
    if "time" not in ds.dims:
        raise DataError("no time dimension", found=list(ds.dims), expected="time (or lead_time)")
    extra = [d for d in ds.dims if d not in ("time", "depth", *_SPACE)]
    if len(extra) > 1:
        raise DataError("too many dimensions", found=list(ds.dims),
                        expected="[sample,] time, [depth,] latitude, longitude")
    if not extra:
        ds = ds.expand_dims("sample")
        if "valid_time" in ds.coords:
            ds = ds.assign_coords(valid_time=ds["valid_time"].expand_dims("sample"))
        extra = ["sample"]
    order = [extra[0], "time", "depth", *_SPACE]
    return ds.transpose(*[d for d in order if d in ds.dims])


def _check_levels(ds: xr.Dataset, variables, levels: Levels | None) -> Levels | None:
    has_3d = any(V.get(v).is_3d for v in variables)
    if not has_3d:
        return None
    if "depth" not in ds.dims:
        raise DataError("3-D variables need a depth dimension", found=list(ds.dims), expected="depth")
    found = Levels(tuple(ds["depth"].values))
    if levels is None:
        return found
    have = found.values
    missing = [d for d in levels if np.min(np.abs(have - d)) > 0.5]
    if missing:
        raise DataError("the data do not have the requested depth levels", variable="depth",
                        found=[round(float(d), 3) for d in have], expected=list(levels.depths),
                        hint="Remap the data onto the model's levels (ocean data build)")
    return levels


def _level_mask(ds: xr.Dataset, variables, levels: Levels | None, mask: xr.DataArray | None) -> np.ndarray:
    """Ocean mask per level ``(depth or 1, lat, lon)``."""
    if mask is not None:
        m = mask
        if "depth" in m.dims and levels is not None:
            m = m.sel(depth=list(levels.depths), method="nearest")
        m = m.transpose(*[d for d in ("depth", *_SPACE) if d in m.dims]).values.astype(bool)
        return m if m.ndim == 3 else m[None]
    first3d = next((v for v in variables if V.get(v).is_3d), None)
    if first3d is not None:
        da = ds[first3d].sel(depth=list(levels.depths), method="nearest")
        return np.isfinite(da.isel({da.dims[0]: 0, "time": 0}).values)
    da = ds[variables[0]]
    return np.isfinite(da.isel({da.dims[0]: 0, "time": 0}).values)[None]


def _require_no_ocean_nan(state: np.ndarray, cmask: np.ndarray, channels, ds: xr.Dataset) -> None:
    bad = ~np.isfinite(state) & cmask[None, None]
    if bad.any():
        per = bad.sum(axis=(0, 1, 3, 4))
        names = [f"{c} ({n} cells)" for c, n in zip(channels, per) if n][:6]
        times = np.unique(ds["time"].values[np.nonzero(bad.any(axis=(0, 2, 3, 4)))[0]])[:3]
        raise DataError("NaN or inf in ocean cells", file=ds.attrs.get("source_files"),
                        found=f"{int(bad.sum())} cells: {', '.join(names)} at {[str(t)[:10] for t in times]}",
                        expected="finite values wherever the land-sea mask says ocean",
                        hint="Check the input for gaps, or pass the correct mask")


def _require_finite(t: torch.Tensor, channels, what: str) -> None:
    finite = torch.isfinite(t)
    if not bool(finite.all()):
        per = (~finite).sum(dim=(0, 1, 3, 4)).tolist()
        names = [f"{c} ({n} cells)" for c, n in zip(channels, per) if n][:6]
        raise DataError(f"{what} has NaN or inf", found=", ".join(names),
                        expected="finite values (land as 0 with the mask saying where the ocean is)")

"""The ``ocean`` accessor on xarray objects: maps, sections, currents, Niño3.4 and skill plots.

Registered when ``ocean`` is imported (this module imports only numpy and
xarray; matplotlib, cartopy and cmocean load inside the methods)::

    import ocean
    ds = ocean.open_forecasts("forecasts/")               # or a cube, or xr.open_zarr(...)
    ds.ocean.map("thetao", depth=0.5, lead=1)              # cartopy, cmocean, offline coastlines
    ds.ocean.currents(depth=0.5, lead=1)
    ds.ocean.section("thetao", lat=0, lead=10)             # or lon=-140
    ds.ocean.nino34()                                      # box-mean SST, or anomalies with climatology=
    m = ocean.open_hindcast("hindcast/")                   # metrics of `ocean hindcast`
    m.ocean.skill_plot()                                   # RMSE / ACC by lead; kind="scorecard" for the heat map
    ds.thetao.ocean.map(depth=100, lead=5)                 # the same on a DataArray

Selections: ``init`` (a date; default the first init), ``lead`` (days;
default the first), ``time`` (a date, for cubes and analyses), ``depth``
(metres, nearest level; default the top). Methods return a
``matplotlib.figure.Figure``.
"""

from __future__ import annotations

import numpy as np
import xarray as xr

from ocean.errors import DataError

__all__ = ["OceanDatasetAccessor", "OceanDataArrayAccessor", "select_field"]


def select_field(da: xr.DataArray, *, depth=None, lead=None, init=None, time=None,
                 keep: tuple[str, ...] = ("latitude", "longitude")) -> xr.DataArray:
    """``da`` reduced to the ``keep`` dims by the given (or default) init, lead, time and depth."""
    import pandas as pd

    out = da
    if "init_time" in out.dims:
        out = out.isel(init_time=0) if init is None else _sel(out, "init_time", np.datetime64(pd.Timestamp(init), "ns"))
    if "lead_time" in out.dims:
        out = out.isel(lead_time=0) if lead is None else _sel(out, "lead_time", _days(lead))
    if "time" in out.dims:
        out = out.isel(time=0) if time is None else _sel(out, "time", np.datetime64(pd.Timestamp(time), "ns"))
    if "depth" in out.dims and "depth" not in keep:
        out = out.isel(depth=0) if depth is None else out.sel(depth=float(depth), method="nearest")
    extra = [d for d in out.dims if d not in keep]
    if extra:
        raise DataError("cannot reduce the field to a map or section", variable=str(da.name),
                        found=f"dims {list(out.dims)} after selection", expected=f"only {list(keep)}",
                        hint=f"Select {extra} first (e.g. .isel({extra[0]}=0))")
    return out


def _days(lead) -> np.timedelta64:
    if isinstance(lead, (np.timedelta64,)):
        return lead.astype("timedelta64[ns]")
    return np.timedelta64(int(lead), "D").astype("timedelta64[ns]")


def _sel(da: xr.DataArray, dim: str, value) -> xr.DataArray:
    have = da[dim].values
    if value not in have:
        shown = [str(x)[:10] if dim != "lead_time" else f"{int(x / np.timedelta64(1, 'D'))} d" for x in have[:5]]
        raise DataError(f"no such {dim}", variable=str(da.name), found=str(value)[:19],
                        expected=f"one of {shown}{' ...' if have.size > 5 else ''}")
    return da.sel({dim: value})


def _title(da: xr.DataArray, name: str) -> str:
    bits = [name]
    if "depth" in da.coords and da["depth"].size == 1:
        bits.append(f"{float(da['depth']):g} m")
    for c, fmt in (("init_time", "init {}"), ("time", "{}")):
        if c in da.coords and da[c].size == 1:
            bits.append(fmt.format(str(da[c].values)[:10]))
    if "lead_time" in da.coords and da["lead_time"].size == 1:
        bits.append(f"lead {int(da['lead_time'].values / np.timedelta64(1, 'D'))} d")
    return ", ".join(bits)


def _need(ds: xr.Dataset, *names: str) -> None:
    missing = [n for n in names if n not in ds]
    if missing:
        raise DataError("the dataset lacks variables", found=sorted(map(str, ds.data_vars)), expected=names)


class _Maps:
    """Map and section plotting shared by the Dataset and DataArray accessors."""

    def _map(self, da: xr.DataArray, ax=None, **sel):
        from ocean.plot import plot_map

        field = select_field(da, **sel)
        fig, _ = plot_map(field.rename(da.name), ax=ax, title=_title(field, str(da.name)))
        return fig

    def _section(self, da: xr.DataArray, lat=None, lon=None, ax=None, **sel):
        from ocean.plot import plot_section

        if (lat is None) == (lon is None):
            raise DataError("a section needs exactly one of lat= or lon=", found=f"lat={lat}, lon={lon}")
        if "depth" not in da.dims:
            raise DataError("a section needs a 3-D variable", variable=str(da.name), found=list(da.dims),
                            expected="a depth dimension")
        cut = da.sel(latitude=lat, method="nearest") if lat is not None else da.sel(longitude=lon, method="nearest")
        keep = ("depth", "longitude") if lat is not None else ("depth", "latitude")
        field = select_field(cut, keep=keep, **sel)
        where = f"{float(cut['latitude']):g}°N" if lat is not None else f"{float(cut['longitude']):g}°E"
        fig, _ = plot_section(field.rename(da.name), ax=ax, title=f"{_title(field, str(da.name))}, section at {where}")
        return fig


@xr.register_dataset_accessor("ocean")
class OceanDatasetAccessor(_Maps):
    """``ds.ocean``: see the module docstring."""

    def __init__(self, ds: xr.Dataset):
        self._ds = ds

    def map(self, var: str, depth=None, lead=None, init=None, time=None, ax=None):
        """Map ``var`` at one depth, lead, init (or time); land and coastlines from the data's NaNs."""
        _need(self._ds, var)
        return self._map(self._ds[var], ax=ax, depth=depth, lead=lead, init=init, time=time)

    def section(self, var: str, lat=None, lon=None, lead=None, init=None, time=None, ax=None):
        """Depth section of ``var`` along the latitude ``lat`` or the longitude ``lon`` (nearest)."""
        _need(self._ds, var)
        return self._section(self._ds[var], lat=lat, lon=lon, ax=ax, lead=lead, init=init, time=time)

    def currents(self, depth=None, lead=None, init=None, time=None, ax=None, stride=None):
        """Current speed with arrows from ``uo`` and ``vo``."""
        from ocean.plot import plot_currents

        _need(self._ds, "uo", "vo")
        sel = dict(depth=depth, lead=lead, init=init, time=time)
        u, v = select_field(self._ds["uo"], **sel), select_field(self._ds["vo"], **sel)
        fig, _ = plot_currents(u, v, ax=ax, title=_title(u, "currents"), stride=stride)
        return fig

    def nino34(self, climatology=None, base_period=None) -> xr.DataArray:
        """Niño3.4 (5°S–5°N, 170°W–120°W).

        With a ``time`` dim (a cube, an analysis): the index of
        :func:`ocean.indices.nino34` (3-month running mean of monthly
        anomalies; ``base_period`` defaults to the data's whole span). For a
        forecast (``init_time, lead_time``): the daily box-mean SST, or its
        anomaly when ``climatology`` is given (harmonic coefficients from
        :func:`ocean.metrics.fit_harmonic_climatology`, e.g. a hindcast's
        ``climatology.nc``, or a day-of-year climatology).
        """
        from ocean.indices import NINO34, box_mean, nino34

        _need(self._ds, "thetao")
        sst = self._ds["thetao"]
        sst = sst.isel(depth=0, drop=True) if "depth" in sst.dims else sst
        if "time" in sst.dims:
            t = sst["time"].values
            period = base_period or (str(t[0])[:10], str(t[-1])[:10])
            return nino34(sst, base_period=period)
        index = box_mean(sst, NINO34)
        if climatology is None:
            return index.rename("nino34_sst").assign_attrs(long_name="Nino3.4 box-mean SST", units="degrees_C")
        clim = _climatology_at(climatology, self._ds["valid_time"])
        cs = clim["thetao"].isel(depth=0, drop=True) if "depth" in clim["thetao"].dims else clim["thetao"]
        cs = cs.assign_coords(latitude=sst["latitude"], longitude=sst["longitude"])
        return (index - box_mean(cs, NINO34)).rename("nino34").assign_attrs(
            long_name="Nino3.4 box-mean SST anomaly (daily)", units="degrees_C")

    def skill_plot(self, kind: str = "lead_curves", **kwargs):
        """Hindcast metrics (``ocean.open_hindcast``): ``"lead_curves"`` (RMSE and ACC by lead, per system)
        or ``"scorecard"`` (model RMSE vs persistence, %, by field and lead)."""
        from ocean.scorecard import lead_curves_figure, scorecard_figure

        need = {"system", "metric", "region", "lead_time"}
        if not need <= set(self._ds.dims):
            raise DataError("not hindcast metrics", found=f"dims {sorted(map(str, self._ds.dims))}",
                            expected=f"dims {sorted(need)}", hint="Open a hindcast with ocean.open_hindcast(DIR)")
        makers = {"lead_curves": lead_curves_figure, "scorecard": scorecard_figure}
        if kind not in makers:
            raise DataError("unknown skill plot", found=kind, expected=list(makers))
        return makers[kind](self._ds, **kwargs)


def _climatology_at(clim: xr.Dataset, valid: xr.DataArray) -> xr.Dataset:
    from ocean.metrics import climatology_at, harmonic_climatology_at

    if "harmonic" in clim.dims:
        return harmonic_climatology_at(clim[["thetao"]], valid)
    if "dayofyear" in clim.dims:
        return climatology_at(clim[["thetao"]], valid)
    raise DataError("cannot evaluate this climatology", found=f"dims {sorted(map(str, clim.dims))}",
                    expected="'harmonic' (ocean.metrics.fit_harmonic_climatology) or 'dayofyear' (daily_climatology)")


@xr.register_dataarray_accessor("ocean")
class OceanDataArrayAccessor(_Maps):
    """``da.ocean``: :meth:`map` and :meth:`section` of one variable."""

    def __init__(self, da: xr.DataArray):
        self._da = da

    def map(self, depth=None, lead=None, init=None, time=None, ax=None):
        return self._map(self._da, ax=ax, depth=depth, lead=lead, init=init, time=time)

    def section(self, lat=None, lon=None, lead=None, init=None, time=None, ax=None):
        return self._section(self._da, lat=lat, lon=lon, ax=ax, lead=lead, init=init, time=time)

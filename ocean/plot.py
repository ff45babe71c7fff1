"""Maps that work offline: cartopy projections, coastlines from our own land-sea mask.

Cartopy downloads Natural Earth shapefiles the first time a coastline
feature is drawn; we never draw one. The coast is the 0.5 contour of the
ocean mask and land is filled from the same mask, so a map needs nothing
but the data. Figures are made with ``matplotlib.figure.Figure`` (no pyplot
state, no backend switch at import).
"""

from __future__ import annotations

import logging
import os
from pathlib import Path
from typing import Sequence

import numpy as np
import xarray as xr

__all__ = ["map_axes", "draw_land", "plot_map", "plot_currents", "plot_section", "quicklooks", "CMAPS"]

log = logging.getLogger(__name__)

#: cmocean colour maps by variable (perceptually uniform, ocean conventions).
CMAPS = {"thetao": "thermal", "sst": "thermal", "so": "haline", "zos": "balance", "uo": "balance",
         "vo": "balance", "speed": "speed", "chl": "algae", "VHM0": "amp", "no3": "matter", "o2": "oxy"}


def _cmap(name: str):
    import cmocean

    return getattr(cmocean.cm, CMAPS.get(name, "thermal"))


def _projection(lon: np.ndarray):
    import cartopy.crs as ccrs

    span = float(lon.max() - lon.min())
    centre = float((lon.max() + lon.min()) / 2)
    return ccrs.Robinson(central_longitude=0.0) if span > 300 else ccrs.PlateCarree(central_longitude=centre)


def map_axes(lon: np.ndarray, lat: np.ndarray, fig=None, position=111, figsize=(9, 4.8)):
    """A cartopy GeoAxes fitted to the data's extent."""
    import cartopy.crs as ccrs
    from matplotlib.figure import Figure

    fig = fig or Figure(figsize=figsize, layout="constrained")
    ax = fig.add_subplot(position, projection=_projection(np.asarray(lon)))
    if float(np.ptp(lon)) > 300 and float(np.ptp(lat)) > 150:
        ax.set_global()
    else:
        ax.set_extent([float(lon.min()), float(lon.max()), float(lat.min()), float(lat.max())], crs=ccrs.PlateCarree())
    return fig, ax


def draw_land(ax, lon: np.ndarray, lat: np.ndarray, ocean: np.ndarray, color="0.82", coast="0.25") -> None:
    """Fill land and draw the coastline from a boolean ocean mask ``(lat, lon)``."""
    import cartopy.crs as ccrs

    land = (~np.asarray(ocean, dtype=bool)).astype(float)
    lon_c, land_c = _cyclic(np.asarray(lon), land)
    ax.contourf(lon_c, lat, land_c, levels=[0.5, 1.5], colors=[color], transform=ccrs.PlateCarree(), zorder=2)
    ax.contour(lon_c, lat, land_c, levels=[0.5], colors=[coast], linewidths=0.6, transform=ccrs.PlateCarree(),
               zorder=3)


def _cyclic(lon: np.ndarray, field: np.ndarray):
    """Close a global field across the seam so contours don't break at the dateline."""
    if lon.size > 1 and (lon[-1] - lon[0] + (lon[1] - lon[0])) >= 359.9:
        return np.append(lon, lon[0] + 360.0), np.concatenate([field, field[..., :1]], axis=-1)
    return lon, field


def plot_map(da: xr.DataArray, ax=None, title: str | None = None, cmap=None, vmin=None, vmax=None,
             ocean: np.ndarray | None = None):
    """Map a 2-D ``(latitude, longitude)`` field; land from NaN (or ``ocean``)."""
    import cartopy.crs as ccrs

    lon, lat = da["longitude"].values, da["latitude"].values
    fig = None
    if ax is None:
        fig, ax = map_axes(lon, lat)
    values = np.asarray(da.values, dtype=float)
    ocean = np.isfinite(values) if ocean is None else ocean
    finite = values[np.isfinite(values)]
    if vmin is None and finite.size:
        vmin, vmax = np.percentile(finite, [1, 99])
        if CMAPS.get(str(da.name)) == "balance":
            vmax = float(np.max(np.abs([vmin, vmax]))) or 1.0
            vmin = -vmax
    mesh = ax.pcolormesh(lon, lat, values, transform=ccrs.PlateCarree(), cmap=cmap or _cmap(str(da.name)),
                         vmin=vmin, vmax=vmax, shading="nearest", zorder=1)
    draw_land(ax, lon, lat, ocean)
    units = da.attrs.get("units", "")
    ax.figure.colorbar(mesh, ax=ax, shrink=0.8, label=f"{da.attrs.get('long_name', da.name)} [{units}]")
    ax.set_title(title or str(da.name))
    return fig or ax.figure, ax


def plot_currents(u: xr.DataArray, v: xr.DataArray, ax=None, title: str | None = None, stride: int | None = None):
    """Current speed with arrows (every ``stride`` cells)."""
    import cartopy.crs as ccrs

    speed = np.hypot(u, v).rename("speed").assign_attrs(long_name="current speed", units="m s-1")
    fig, ax = plot_map(speed, ax=ax, title=title or "surface currents", vmin=0.0,
                       vmax=float(np.nanpercentile(speed.values, 99)) or 1.0)
    lon, lat = u["longitude"].values, u["latitude"].values
    stride = stride or max(1, int(max(lon.size, lat.size) / 40))
    sl = (slice(None, None, stride), slice(None, None, stride))
    ax.quiver(lon[sl[1]], lat[sl[0]], np.nan_to_num(u.values[sl]), np.nan_to_num(v.values[sl]),
              transform=ccrs.PlateCarree(), zorder=4, color="k", width=0.0018, scale=None)
    return fig, ax


def plot_section(da: xr.DataArray, ax=None, title: str | None = None):
    """A vertical section ``(depth, x)``: depth increases downward."""
    from matplotlib.figure import Figure

    fig = None
    if ax is None:
        fig = Figure(figsize=(9, 4), layout="constrained")
        ax = fig.add_subplot(111)
    xdim = next(d for d in da.dims if d != "depth")
    mesh = ax.pcolormesh(da[xdim].values, da["depth"].values, da.transpose("depth", xdim).values,
                         cmap=_cmap(str(da.name)), shading="nearest")
    ax.set_ylim(float(da["depth"].max()), 0)
    ax.set_ylabel("depth [m]")
    ax.set_xlabel(f"{xdim} [{da[xdim].attrs.get('units', '')}]")
    ax.set_facecolor("0.82")
    ax.figure.colorbar(mesh, ax=ax, label=f"{da.attrs.get('long_name', da.name)} [{da.attrs.get('units', '')}]")
    ax.set_title(title or str(da.name))
    return fig or ax.figure, ax


def quicklooks(ds: xr.Dataset, out_dir: "str | os.PathLike", leads: Sequence[int] = (1, 10, 30),
               dpi: int = 90) -> list[Path]:
    """SST, SSH and surface-current PNGs for one forecast init at the given lead days."""
    out = Path(out_dir)
    out.mkdir(parents=True, exist_ok=True)
    ds = ds.isel(init_time=0) if "init_time" in ds.dims else ds
    init = str(np.datetime_as_string(ds["init_time"].values, unit="D")) if "init_time" in ds.coords else ""
    written = []
    days = (ds["lead_time"].values / np.timedelta64(1, "D")).astype(int)
    for lead in [d for d in leads if d in days]:
        f = ds.sel(lead_time=np.timedelta64(int(lead), "D"))
        sfc = f.isel(depth=0) if "depth" in f.dims else f
        tag = f"init {init}, lead {lead} d"
        jobs = []
        if "thetao" in f:
            jobs.append(("sst", lambda: plot_map(sfc["thetao"].rename("thetao"), title=f"SST ({tag})")))
        if "zos" in f:
            jobs.append(("ssh", lambda: plot_map(f["zos"], title=f"SSH ({tag})")))
        if "uo" in f and "vo" in f:
            jobs.append(("currents", lambda: plot_currents(sfc["uo"], sfc["vo"], title=f"surface currents ({tag})")))
        for name, make in jobs:
            fig, _ = make()
            path = out / f"{name}_lead{lead:03d}.png"
            fig.savefig(path, dpi=dpi)
            written.append(path)
    log.info("wrote %d quicklook PNGs to %s", len(written), out)
    return written

"""Ocean diagnostics derived from the forecast fields.

* :func:`mixed_layer_depth` — density-threshold MLD (de Boyer Montégut et al.
  2004): the depth where potential density (TEOS-10, ``gsw``) exceeds its
  10 m value by 0.03 kg m-3, linearly interpolated between levels.
* :func:`geostrophic_currents` — surface geostrophic velocity from ``zos``:
  ``u = -(g/f) dη/dy``, ``v = (g/f) dη/dx``, centred differences on the
  sphere (periodic in longitude on global grids), undefined within 0.5° of
  the equator where ``f`` vanishes.
"""

from __future__ import annotations

import gsw
import numpy as np
import xarray as xr

from ocean.grid import EARTH_RADIUS

__all__ = ["potential_density", "mixed_layer_depth", "geostrophic_currents", "G", "OMEGA"]

G = 9.80665  # m s-2
OMEGA = 7.2921e-5  # s-1


def potential_density(thetao: xr.DataArray, so: xr.DataArray) -> xr.DataArray:
    """sigma0 (kg m-3 minus 1000) from potential temperature (°C) and practical salinity."""
    depth, lat, lon = thetao["depth"], thetao["latitude"], thetao["longitude"]
    p = xr.apply_ufunc(gsw.p_from_z, -depth, lat)
    sa = xr.apply_ufunc(gsw.SA_from_SP, so, p, lon, lat, dask="parallelized", output_dtypes=[float])
    ct = xr.apply_ufunc(gsw.CT_from_pt, sa, thetao, dask="parallelized", output_dtypes=[float])
    sigma = xr.apply_ufunc(gsw.sigma0, sa, ct, dask="parallelized", output_dtypes=[float])
    return sigma.rename("sigma0").assign_attrs(long_name="potential density anomaly (sigma0)", units="kg m-3")


def _mld_column(sigma: np.ndarray, depth: np.ndarray, threshold: float, ref_depth: float) -> np.ndarray:
    """MLD along the last axis of ``sigma`` (NaN where land or the column is too shallow)."""
    ref = np.full(sigma.shape[:-1], np.nan)
    k = np.searchsorted(depth, ref_depth)
    if k == 0:
        ref = sigma[..., 0]
    elif k < depth.size:
        t = (ref_depth - depth[k - 1]) / (depth[k] - depth[k - 1])
        ref = sigma[..., k - 1] * (1 - t) + sigma[..., k] * t
    target = ref[..., None] + threshold
    exceed = (sigma > target) & (depth >= ref_depth)
    first = np.argmax(exceed, axis=-1)
    found = exceed.any(axis=-1)
    lo = np.clip(first - 1, 0, depth.size - 1)
    s_lo = np.take_along_axis(sigma, lo[..., None], -1)[..., 0]
    s_hi = np.take_along_axis(sigma, first[..., None], -1)[..., 0]
    frac = np.where(s_hi > s_lo, (target[..., 0] - s_lo) / np.where(s_hi > s_lo, s_hi - s_lo, 1.0), 0.0)
    mld = depth[lo] + np.clip(frac, 0, 1) * (depth[first] - depth[lo])
    # Mixed to the deepest valid level: report that level's depth (a lower bound).
    valid = np.isfinite(sigma)
    last = np.where(valid.any(-1), valid.shape[-1] - 1 - np.argmax(valid[..., ::-1], axis=-1), 0)
    mld = np.where(found, mld, depth[last])
    return np.where(np.isfinite(ref), mld, np.nan)


def mixed_layer_depth(thetao: xr.DataArray, so: xr.DataArray, threshold: float = 0.03,
                      ref_depth: float = 10.0) -> xr.DataArray:
    """Density-threshold mixed-layer depth (m); dims of ``thetao`` without ``depth``."""
    sigma = potential_density(thetao, so)
    depth = thetao["depth"].values.astype(float)
    mld = xr.apply_ufunc(_mld_column, sigma, input_core_dims=[["depth"]], kwargs={
        "depth": depth, "threshold": threshold, "ref_depth": ref_depth},
        dask="parallelized", output_dtypes=[float])
    return mld.rename("mld").assign_attrs(
        standard_name="ocean_mixed_layer_thickness_defined_by_sigma_theta", units="m",
        long_name=f"mixed layer depth (sigma0 threshold {threshold} kg m-3 from {ref_depth:g} m)")


def geostrophic_currents(zos: xr.DataArray, min_lat: float = 0.5) -> xr.Dataset:
    """Surface geostrophic currents ``ugos``, ``vgos`` (m s-1) from sea-surface height."""
    lat = np.deg2rad(zos["latitude"])
    lon = np.deg2rad(zos["longitude"].values)
    dlon = float(np.median(np.diff(lon)))
    periodic = abs(dlon * lon.size - 2 * np.pi) < 1e-6
    f = 2 * OMEGA * np.sin(lat)
    if periodic:
        deta_dx = (zos.roll(longitude=-1, roll_coords=False) - zos.roll(longitude=1, roll_coords=False)) / (2 * dlon)
    else:
        deta_dx = zos.differentiate("longitude") * (180 / np.pi)
    deta_dx = deta_dx / (EARTH_RADIUS * np.cos(lat))
    deta_dy = zos.differentiate("latitude") * (180 / np.pi) / EARTH_RADIUS
    keep = np.abs(zos["latitude"]) >= min_lat
    u = (-(G / f) * deta_dy).where(keep)
    v = ((G / f) * deta_dx).where(keep)
    return xr.Dataset({
        "ugos": u.assign_attrs(standard_name="geostrophic_eastward_sea_water_velocity", units="m s-1"),
        "vgos": v.assign_attrs(standard_name="geostrophic_northward_sea_water_velocity", units="m s-1"),
    })

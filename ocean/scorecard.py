"""Pictures and tables of hindcast scores (``metrics.nc`` of ``ocean hindcast``).

* :func:`scorecard_figure` — the model's RMSE against a baseline's, in
  per cent, for every field (variable and depth) and lead, one panel per
  region: blue where the model is better;
* :func:`lead_curves_figure` — RMSE and ACC against lead for every system,
  for a few headline fields;
* :func:`summary_table` and :func:`markdown_report` — the same as Markdown.

Input: a metrics dataset with dims ``system, metric, region, lead_time[,
depth]`` (``ocean.open_hindcast``). Figures are ``matplotlib.figure.Figure``
objects (no pyplot state); :func:`save_figure` writes one atomically.
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import Mapping, Sequence

import numpy as np
import xarray as xr

__all__ = ["fields", "lead_days", "improvement", "scorecard_figure", "lead_curves_figure", "summary_table",
           "markdown_report", "save_figure", "HEADLINE"]

#: Headline fields of the summary tables and lead curves: (variable, depth in m or None).
HEADLINE: tuple[tuple[str, float | None], ...] = (("thetao", 0.5), ("thetao", 100.0), ("so", 0.5), ("uo", 0.5),
                                                  ("zos", None), ("mld", None))


def lead_days(ds: xr.Dataset) -> np.ndarray:
    """Lead times in whole days (``lead_time`` may be timedelta or integer days)."""
    lead = ds["lead_time"].values
    return (lead / np.timedelta64(1, "D")).astype(int) if np.issubdtype(lead.dtype, np.timedelta64) else lead.astype(int)


def fields(metrics: xr.Dataset) -> list[tuple[str, float | None]]:
    """Every (variable, depth) of the metrics, 3-D variables level by level."""
    out = []
    for v, da in metrics.data_vars.items():
        if "metric" not in da.dims:
            continue
        out += [(v, float(d)) for d in da["depth"].values] if "depth" in da.dims else [(v, None)]
    return out


def _label(v: str, depth: float | None) -> str:
    return v if depth is None else f"{v} {depth:g} m"


def _select(metrics: xr.Dataset, v: str, depth: float | None, **sel) -> xr.DataArray:
    da = metrics[v].sel(**sel)
    return da.sel(depth=depth, method="nearest") if depth is not None and "depth" in da.dims else da


def improvement(metrics: xr.Dataset, baseline: str = "persistence", metric: str = "rmse") -> xr.Dataset:
    """``100 * (model - baseline) / baseline`` of ``metric``: negative where the model is better."""
    m = metrics.sel(metric=metric)
    return 100 * (m.sel(system="model") - m.sel(system=baseline)) / m.sel(system=baseline)


def scorecard_figure(metrics: xr.Dataset, baseline: str = "persistence", metric: str = "rmse",
                     regions: Sequence[str] | None = None, vmax: float = 50.0):
    """Heat map per region: rows are fields, columns leads, colour the model's % change over ``baseline``."""
    import cmocean
    from matplotlib.figure import Figure

    regions = list(regions or metrics["region"].values)
    rows = fields(metrics)
    pct = improvement(metrics, baseline, metric)
    days = lead_days(metrics)
    grid = np.stack([np.stack([_select(pct, v, d, region=r).values for v, d in rows]) for r in regions])
    width = 2.2 + 0.12 * len(days) * len(regions) + 1.0 * len(regions)
    fig = Figure(figsize=(min(width, 30), 1.6 + 0.19 * len(rows)), layout="constrained")
    axes = np.atleast_1d(fig.subplots(1, len(regions), sharey=True))
    for ax, r, g in zip(axes, regions, grid):
        mesh = ax.pcolormesh(np.arange(days.size + 1) + 0.5, np.arange(len(rows) + 1) - 0.5, g,
                             cmap=cmocean.cm.balance, vmin=-vmax, vmax=vmax)
        ax.set_xticks(days[:: max(1, days.size // 6)] if days.size else [])
        ax.set_xlabel("lead (days)")
        ax.set_title(str(r))
        ax.set_facecolor("0.85")
    axes[0].set_yticks(np.arange(len(rows)), [_label(v, d) for v, d in rows], fontsize=7)
    axes[0].invert_yaxis()
    fig.colorbar(mesh, ax=list(axes), shrink=0.6, label=f"{metric.upper()} model vs {baseline} (%)\n"
                                                          "blue: model better", extend="both")
    fig.suptitle(f"Scorecard: model {metric.upper()} relative to {baseline}")
    return fig


def lead_curves_figure(metrics: xr.Dataset, headline: Sequence[tuple[str, float | None]] = HEADLINE,
                       region: str = "global"):
    """RMSE (top) and ACC (bottom) against lead for each system and headline field in ``region``."""
    from matplotlib.figure import Figure

    chosen = [(v, d) for v, d in headline if v in metrics]
    days = lead_days(metrics)
    fig = Figure(figsize=(3.0 * max(1, len(chosen)), 5.6), layout="constrained")
    axes = np.asarray(fig.subplots(2, max(1, len(chosen)), squeeze=False))
    styles = {"model": "-o", "persistence": "--", "climatology": ":"}
    for j, (v, d) in enumerate(chosen):
        for k, metric in enumerate(("rmse", "acc")):
            ax = axes[k, j]
            for s in metrics["system"].values:
                y = _select(metrics, v, d, system=s, metric=metric, region=region).values
                if np.isfinite(y).any():
                    ax.plot(days, y, styles.get(str(s), "-"), ms=2.5, label=str(s))
            units = metrics[v].attrs.get("units", "") if metric == "rmse" else ""
            ax.set(title=_label(v, d) if k == 0 else "", xlabel="lead (days)" if k else "",
                   ylabel=f"{metric.upper()}{f' ({units})' if units else ''}" if j == 0 or units else "")
            ax.grid(alpha=0.3)
    if chosen:
        axes[0, 0].legend(fontsize=7)
    fig.suptitle(f"Scores by lead ({region})")
    return fig


def save_figure(fig, path: "str | os.PathLike", dpi: int = 100) -> Path:
    """Write a figure as PNG atomically (a temporary file renamed into place)."""
    path = Path(path)
    tmp = path.with_name(f".{path.name}.tmp-{os.getpid()}")
    try:
        fig.savefig(tmp, dpi=dpi, format="png")
        os.replace(tmp, path)
    finally:
        tmp.unlink(missing_ok=True)
    return path


def _nearest(days: np.ndarray, wanted: Sequence[int]) -> list[int]:
    return [d for d in wanted if d in days] or [int(days[0]), int(days[-1])]


def summary_table(metrics: xr.Dataset, headline: Sequence[tuple[str, float | None]] = HEADLINE,
                  leads: Sequence[int] = (1, 5, 10, 30), region: str = "global", metric: str = "rmse") -> str:
    """Markdown: ``metric`` of every system at a few leads, and the model's % change over persistence."""
    days = lead_days(metrics)
    systems = [str(s) for s in metrics["system"].values]
    compare = "persistence" in systems and metric in ("rmse", "acc")
    head = ["field", "lead (d)", *systems] + ([("model vs persistence" if metric == "rmse" else
                                                 "model - persistence")] if compare else [])
    rows = ["| " + " | ".join(head) + " |", "|" + "---|" * len(head)]
    for v, d in [(v, d) for v, d in headline if v in metrics]:
        units = metrics[v].attrs.get("units", "")
        for lead in _nearest(days, leads):
            vals = [float(_select(metrics, v, d, system=s, metric=metric, region=region).isel(
                lead_time=int(np.nonzero(days == lead)[0][0]))) for s in systems]
            cells = [f"{x:.4g}" for x in vals]
            if compare:
                p = vals[systems.index("persistence")]
                cells.append((f"{100 * (vals[0] - p) / p:+.0f} %" if p else "n/a") if metric == "rmse"
                             else f"{vals[0] - p:+.3f}")
            rows.append(f"| {_label(v, d)} ({units}) | {lead} | " + " | ".join(cells) + " |")
    return "\n".join(rows) + "\n"


def _region_table(metrics: xr.Dataset, lead: int) -> str:
    pct = improvement(metrics)
    days = lead_days(metrics)
    i = int(np.nonzero(days == lead)[0][0])
    regions = [str(r) for r in metrics["region"].values]
    rows = ["| field | " + " | ".join(regions) + " |", "|" + "---|" * (len(regions) + 1)]
    for v, d in [(v, d) for v, d in HEADLINE if v in metrics]:
        cells = [f"{float(_select(pct, v, d, region=r).isel(lead_time=i)):+.0f} %" for r in regions]
        rows.append(f"| {_label(v, d)} | " + " | ".join(cells) + " |")
    return "\n".join(rows) + "\n"


def _nino_table(nino: xr.Dataset) -> str:
    days = lead_days(nino)
    systems = [str(s) for s in nino["system"].values]
    rows = ["| lead | " + " | ".join(f"ACC {s}" for s in systems) + " | " + " | ".join(f"RMSE {s}" for s in systems)
            + " |", "|" + "---|" * (1 + 2 * len(systems))]
    for lead in _nearest(days, (1, 5, 10, 20, 30)):
        i = int(np.nonzero(days == lead)[0][0])
        a = nino["acc"].isel(lead_time=i).values
        r = nino["rmse"].isel(lead_time=i).values
        rows.append(f"| day {lead} | " + " | ".join(f"{x:.2f}" for x in a) + " | " + " | ".join(f"{x:.3f}" for x in r)
                    + " |")
    if "acc_month" in nino:
        for m in nino["lead_month"].values:
            a = nino["acc_month"].sel(lead_month=m).values
            r = nino["rmse_month"].sel(lead_month=m).values
            rows.append(f"| month {int(m)} | " + " | ".join(f"{x:.2f}" for x in a) + " | "
                        + " | ".join(f"{x:.3f}" for x in r) + " |")
    return "\n".join(rows) + "\n"


def _class4_table(class4: xr.Dataset) -> str:
    days = lead_days(class4)
    systems = [str(s) for s in class4["system"].values]
    bins = [str(b) for b in class4["depth_bins"].values]
    rows = ["| variable | depth | lead (d) | matches | " + " | ".join(f"RMSE {s}" for s in systems) + " | "
            + " | ".join(f"bias {s}" for s in systems) + " |", "|" + "---|" * (4 + 2 * len(systems))]
    for v in [v for v in ("thetao", "so") if f"{v}_rmse" in class4]:
        for b in bins:
            for lead in _nearest(days, (1, 10, 30)):
                i = int(np.nonzero(days == lead)[0][0])
                sel = dict(depth_bins=b, lead_time=i)
                n = int(class4[f"{v}_count"].sel(system=systems[0], depth_bins=b).isel(lead_time=i))
                if n == 0:
                    continue
                rm = [float(class4[f"{v}_rmse"].sel(system=s, depth_bins=b).isel(lead_time=sel["lead_time"]))
                      for s in systems]
                bi = [float(class4[f"{v}_bias"].sel(system=s, depth_bins=b).isel(lead_time=sel["lead_time"]))
                      for s in systems]
                rows.append(f"| {v} | {b} | {lead} | {n} | " + " | ".join(f"{x:.3f}" for x in rm) + " | "
                            + " | ".join(f"{x:+.3f}" for x in bi) + " |")
    return "\n".join(rows) + "\n"


def markdown_report(metrics: xr.Dataset, nino: xr.Dataset | None = None, class4: xr.Dataset | None = None,
                    sections: Sequence[tuple[str, str]] = (), forecasts: Mapping[str, int] | None = None,
                    notes: Sequence[str] = (), timings: Mapping[str, float] | None = None) -> str:
    """The hindcast's ``report.md``; ``sections`` are extra ``(title, markdown)`` pairs (e.g. the ENSO head's)."""
    a = metrics.attrs
    days = lead_days(metrics)
    parts = ["# Hindcast report\n",
             f"- model: `{a.get('model_dir', '?')}` (sha256 {str(a.get('model_sha256', ''))[:12]})",
             f"- reference: cube `{a.get('cube', '?')}`; inits {a.get('inits', '?')} ({a.get('init_count', '?')}), "
             f"{a.get('leads', days.size)} daily leads; forcing: {a.get('forcing', '?')}",
             f"- climatology period: {a.get('climatology_period', '?')}; systems: "
             + ", ".join(str(s) for s in metrics['system'].values),
             "- regions: " + ", ".join(str(r) for r in metrics['region'].values)]
    if forecasts:
        parts.append("- forecasts: " + ", ".join(f"{n} {k}" for k, n in forecasts.items()))
    if timings:
        parts.append("- wall time: " + ", ".join(f"{k} {v:.1f} s" for k, v in timings.items()))
    parts += ["", f"Metrics: {a.get('metrics', '')}.", "",
              "Files: `metrics.nc` (dims system x metric x region x lead_time [x depth]), `scorecard.png`, "
              "`lead_curves.png`" + (", `nino34.nc`" if nino is not None else "")
              + (", `class4.nc`" if class4 is not None else "") + ".", "",
              "## RMSE, global\n", summary_table(metrics)]
    if "acc" in metrics["metric"].values:
        parts += ["## ACC, global\n", summary_table(metrics, metric="acc")]
    if "persistence" in metrics["system"].values:
        lead = int(days[-1])
        parts += [f"## Model RMSE vs persistence by region, lead {lead} d\n",
                  "Negative: the model's RMSE is lower than persistence's.\n", _region_table(metrics, lead)]
    if nino is not None:
        parts += ["## Niño3.4\n", f"{nino.attrs.get('note', '')}. ACC is the correlation over inits of the "
                  "box-mean SST anomaly; lead month m averages lead days 30(m-1)+1..30m.\n", _nino_table(nino)]
    if class4 is not None:
        parts += ["## Class-4 (Argo)\n", f"{class4.attrs.get('profiles', '?')} profiles from "
                  f"{class4.attrs.get('argo_files', '')}; {class4.attrs.get('method', '')}.\n", _class4_table(class4)]
    for title, text in sections:
        parts += [f"## {title}\n", text]
    if notes:
        parts += ["## Notes\n", *[f"- {n}" for n in notes], ""]
    return "\n".join(parts) + "\n"

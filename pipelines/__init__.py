"""Dask/Zarr data pipelines: producers' files -> the training cube (``ocean/cube.py``).

Imports only ``ocean`` (core) and never torch. ``ocean data`` (``ocean/cli/data.py``)
is the command line; every step is a function a notebook can call too:

* :mod:`pipelines.recipe` -- YAML recipes parsed into frozen dataclasses;
* :mod:`pipelines.sources` -- gridded sources (reanalysis, ERA5 daily means,
  L4 SST, monthly products, bathymetry), lazily, file by file;
* :mod:`pipelines.swath` -- L2/L3 swaths and along-track data with pyresample;
* :mod:`pipelines.regrid` / :mod:`pipelines.vertical` -- horizontal
  (conservative / linear, skipna and coverage) and vertical remapping, masks;
* :mod:`pipelines.plan` -- which source gives which day; the missing-day policy;
* :mod:`pipelines.assemble` -- the lazy cube dataset; :mod:`pipelines.checks`
  -- checks that run inside the write;
* :mod:`pipelines.build`, :mod:`pipelines.append`, :mod:`pipelines.validate`
  -- ``ocean data build | append | validate``; :mod:`pipelines.statistics`,
  :mod:`pipelines.gaps`, :mod:`pipelines.compute` (schedulers, progress).

See docs/pipeline.md.
"""

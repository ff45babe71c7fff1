"""Where the pipeline's dask graphs run, and the progress bar.

Scheduler choice (``compute.scheduler`` in a recipe, ``--scheduler`` or
``--dask-address`` on the command line):

* ``auto`` (default): ``local-cluster`` with more than two cores, else
  ``synchronous`` (measured on a 2-core machine, the cluster's overhead
  costs more than its second core gives: docs/pipeline.md, Benchmark);
* ``local-cluster``: a ``dask.distributed.LocalCluster`` of
  single-threaded *process* workers (one per core, at most 8). The
  netCDF4/HDF5 C libraries are not thread-safe, and threaded dask reading
  NetCDF can crash or corrupt reads; separate processes never share a
  library handle. Zarr writes from the workers are safe (one task writes
  one whole shard).
* ``processes``: dask's multiprocessing scheduler, same reasoning, no
  cluster start-up (about a second cheaper; no memory management).
* ``synchronous``: one thread, for tests and debugging.
* ``address``: an existing ``dask.distributed`` scheduler (``tcp://...``);
  the workers must see the input files and the output folder at the same
  paths.

The threaded scheduler is deliberately not offered.
"""

from __future__ import annotations

import contextlib
import logging
import os
import sys
from typing import Iterator

import dask

from ocean.errors import ConfigError
from pipelines.recipe import ComputeOptions

__all__ = ["scheduler", "progress_bar", "worker_count", "resolve_scheduler", "fast_zarr", "ZARR_CONFIG"]

#: zarr-python settings for writing and reading cube shards: inner chunks (one level each)
#: encoded in batches rather than one thread hand-off each, ~30% less CPU per shard (measured
#: on a 15-level 4 degree shard: write 15 -> 12 ms, read 8 -> 6 ms).
ZARR_CONFIG = {"codec_pipeline.batch_size": 16}

log = logging.getLogger(__name__)


def resolve_scheduler(options: ComputeOptions) -> str:
    """The local scheduler ``auto`` stands for on this machine."""
    if options.scheduler != "auto":
        return options.scheduler
    return "local-cluster" if (os.cpu_count() or 1) > 2 else "synchronous"


def worker_count(options: ComputeOptions) -> int:
    return options.workers or max(1, min(os.cpu_count() or 1, 8))


@contextlib.contextmanager
def scheduler(options: ComputeOptions) -> Iterator[int]:
    """Make ``dask.compute`` run where ``options`` says; yields the number of workers."""
    if options.address:
        with _client(address=options.address) as n:
            yield n
        return
    active = _active_client()
    if active is not None:  # a caller already runs one (a notebook, a benchmark): use it
        yield max(1, len(active.scheduler_info().get("workers", {})))
        return
    n = worker_count(options)
    kind = resolve_scheduler(options)
    if kind == "local-cluster" and n > 1:
        from distributed import LocalCluster

        kwargs = {"memory_limit": options.memory_limit} if options.memory_limit else {}
        _quiet_distributed()
        with LocalCluster(n_workers=n, threads_per_worker=1, processes=True, dashboard_address=None,
                          silence_logs=logging.ERROR, **kwargs) as cluster, _client(cluster=cluster):
            log.info("dask LocalCluster: %d process workers", n)
            yield n
        return
    name = "processes" if kind == "processes" and n > 1 else "synchronous"
    with dask.config.set(scheduler=name, num_workers=n):
        yield n if name == "processes" else 1


def _active_client():
    try:
        from distributed import default_client

        return default_client()
    except (ImportError, ValueError):
        return None


def _quiet_distributed() -> None:
    """distributed configures its own loggers at INFO on import; keep them to warnings
    unless the root logger is at DEBUG (``ocean -vv``)."""
    if logging.getLogger().getEffectiveLevel() <= logging.DEBUG:
        return
    for name in [n for n in list(logging.root.manager.loggerDict) if n.split(".")[0] == "distributed"]:
        logging.getLogger(name).setLevel(logging.WARNING)
    logging.getLogger("distributed").setLevel(logging.WARNING)


@contextlib.contextmanager
def _client(address: str | None = None, cluster=None) -> Iterator[int]:
    from distributed import Client

    _quiet_distributed()
    try:
        client = Client(cluster if cluster is not None else address, set_as_default=True)
    except (OSError, TimeoutError, ValueError) as exc:
        raise ConfigError(f"cannot reach the dask scheduler at {address!r} ({exc}); start it, or drop "
                          "--dask-address to compute locally") from None
    try:
        n = max(1, len(client.scheduler_info().get("workers", {})))
        log.info("dask scheduler %s with %d workers", client.scheduler.address, n)
        yield n
    finally:
        client.close()


def progress_bar(total: int, enabled: bool, unit: str = "day", desc: str = "writing"):
    """A tqdm bar on stderr (silent when disabled or when stderr is not wanted)."""
    from tqdm.auto import tqdm

    return tqdm(total=total, disable=not enabled, unit=unit, desc=desc, file=sys.stderr, leave=False)


def fast_zarr():
    """Context manager: :data:`ZARR_CONFIG` for the zarr calls made inside (in this process)."""
    import zarr

    return zarr.config.set(ZARR_CONFIG)

"""Where evaluations run: in this process, in a local process pool (the default), or on a Dask
cluster. All three share one small interface: `submit(fn, *args)`, `wait_any(handles)`,
`result(handle)`, `close()`."""

import concurrent.futures as cf
from collections.abc import Callable, Sequence
from typing import Any

from treadle.tuning.errors import TuningError


class Executor:
    """Runs evaluation calls and reports which have finished."""

    def submit(self, fn: Callable[..., Any], *args: Any) -> Any:
        raise NotImplementedError

    def wait_any(self, handles: Sequence[Any]) -> list[Any]:
        """Block until at least one handle is done; return the finished ones."""
        raise NotImplementedError

    def result(self, handle: Any) -> Any:
        return handle.result()

    def close(self) -> None:
        pass

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        self.close()


class SerialExecutor(Executor):
    """Evaluates in this process at submit time (objectives that cannot be pickled, tests)."""

    def submit(self, fn, *args):
        future: cf.Future = cf.Future()
        try:
            future.set_result(fn(*args))
        except BaseException as err:  # delivered through result(), like a pool would
            future.set_exception(err)
        return future

    def wait_any(self, handles):
        return list(handles)


class ProcessExecutor(Executor):
    """A local process pool: a crashing objective cannot take the tuner down with it."""

    def __init__(self, workers: int = 1):
        self.pool = cf.ProcessPoolExecutor(max_workers=workers)

    def submit(self, fn, *args):
        return self.pool.submit(fn, *args)

    def wait_any(self, handles):
        done, _ = cf.wait(handles, return_when=cf.FIRST_COMPLETED)
        return list(done)

    def result(self, handle):
        try:
            return handle.result()
        except cf.process.BrokenProcessPool as err:
            raise TuningError(f"a worker process died ({err}); the objective may have crashed the interpreter") from None

    def close(self):
        self.pool.shutdown(wait=True, cancel_futures=True)


class DaskExecutor(Executor):
    """A Dask cluster: `address` of a running scheduler, or a LocalCluster of `workers` processes."""

    def __init__(self, address: str | None = None, workers: int = 2, **cluster_options: Any):
        try:
            from distributed import Client, LocalCluster
        except ImportError:
            raise TuningError("the Dask executor needs `pip install dask[distributed]`") from None
        self._cluster = None
        if address is None:
            options = {"n_workers": workers, "threads_per_worker": 1, "processes": True,
                       "dashboard_address": None, **cluster_options}
            self._cluster = LocalCluster(**options)
            self.client = Client(self._cluster)
        else:
            self.client = Client(address)

    def submit(self, fn, *args):
        return self.client.submit(fn, *args, pure=False)

    def wait_any(self, handles):
        from distributed import wait

        done, _ = wait(list(handles), return_when="FIRST_COMPLETED")
        return list(done)

    def close(self):
        self.client.close()
        if self._cluster is not None:
            self._cluster.close()


def make_executor(kind: str | Executor | None, workers: int = 1) -> Executor:
    """An executor from a name (`process`, `serial`, `dask`, `dask://host:port`) or an instance."""
    if isinstance(kind, Executor):
        return kind
    if kind in (None, "process"):
        return ProcessExecutor(workers)
    if kind == "serial":
        return SerialExecutor()
    if kind == "dask":
        return DaskExecutor(workers=max(workers, 1))
    if isinstance(kind, str) and kind.startswith(("dask://", "tcp://")):
        return DaskExecutor(address=kind.removeprefix("dask://"))
    raise TuningError(f"unknown executor {kind!r}; use process, serial, dask or dask://HOST:PORT")

"""``write()``: gen's command line in this process, on a worker thread that Ctrl-C can
cancel."""

from __future__ import annotations

import os
import threading
from typing import Any, List, Optional

import numpy as np

from . import _weightinit
from ._args import dtype_name, shape_dims
from ._types import PathLike
from .errors import InterruptedAfterWrite


def _flag_value(key: str, value: Any) -> List[str]:
    """One keyword argument of write() as gen's flags."""
    flag = "--" + key.replace("_", "-")
    if value is None or value is False:
        return []
    if value is True:
        return [flag]
    if key == "shape":
        if isinstance(value, str):
            return [flag, value]
        if isinstance(value, (int, np.integer)) or (
            isinstance(value, (tuple, list)) and all(isinstance(d, (int, np.integer)) for d in value)
        ):
            value = [value]
        return [a for s in value for a in (flag, "x".join(str(d) for d in shape_dims(s)))]
    if key in ("rule", "rules", "name", "names") and isinstance(value, (list, tuple)):
        flag = "--rule" if key.startswith("rule") else "--name"
        return [a for v in value for a in (flag, str(v))]
    if key == "dtype":
        value = dtype_name(value)
    if isinstance(value, os.PathLike):
        value = os.fspath(value)
    return [flag, str(value)]


def _command_line(path: PathLike, scheme: Optional[str], shape: Any, options: dict[str, Any]) -> List[str]:
    """gen's argv for write()'s arguments."""
    target = os.fspath(path)
    # gen takes a directory when the path ends with a separator; a Hugging Face model
    # always goes to one, and an existing directory is one.
    if (options.get("hf_config") is not None and not os.path.splitext(target)[1]) or os.path.isdir(target):
        target = os.path.join(target, "")
    args = ["weightinit", "gen", "--output", target]
    options.setdefault("report", "none")
    if scheme is not None:
        options["scheme"] = scheme
    if shape is not None:
        options["shape"] = shape
    for key, value in options.items():
        args += _flag_value(key, value)
    return args


def _wait_until_stopped(stopped: threading.Event) -> None:
    """Waits for a worker that was told to stop. A second Ctrl-C does not cut the wait
    short: the worker is already stopping (at its next write), and returning before it
    has removed its temporaries would leave them behind if the process then exits."""
    while not stopped.is_set():
        try:
            stopped.wait()
        except KeyboardInterrupt:
            continue


def write(path: PathLike, scheme: Optional[str] = None, shape: Any = None, **options: Any) -> None:
    """Generate tensors straight to a file or directory, streaming in bounded memory.

    This is ``weightinit gen`` in this process: ``path`` is ``--output``, and every
    keyword argument is one of gen's flags with ``_`` for ``-`` (``seed=0`` is
    ``--seed 0``, ``hf_config="config.json"`` is ``--hf-config config.json``,
    ``max_shard_size="5GB"``, ``force=True``, ``rule=["*.bias=zeros", ...]``); a shape is
    a tuple, or a list of tuples for several tensors. Any source gen takes works: a
    scheme and shape, ``layers=``, ``spec=``, ``like=``, ``hf_config=``. The file is
    written to a temporary name and renamed when complete; an existing file is replaced
    only with ``force=True``. ``path`` is a directory when it ends with ``/``, already is
    one, or (for ``hf_config``) has no extension: a model goes there as
    ``model.safetensors`` (or its shards) beside a copy of config.json. No report is
    printed (``report="human"`` prints gen's).

    Example:
        >>> import weightinit as wi
        >>> wi.write("w.npy", "he-normal", (784, 128), seed=42)          # doctest: +SKIP
        >>> wi.write("model", hf_config="config.json", seed=0)          # doctest: +SKIP

    Ctrl-C (KeyboardInterrupt) at any moment after the call starts cancels the run or
    finds it complete, never anything in between:

    - Every file of the run (a tensor, each shard, the manifest, config.json) is written
      under a temporary name, and all are renamed into place together at the end of the
      run, under a lock the cancel takes too.
    - ``KeyboardInterrupt`` raised by write() means the cancel came first: none of the
      run's files appeared, its temporaries and the directories it created are removed
      before the exception propagates (a file ``force=True`` would have replaced is left
      as it was).
    - ``InterruptedAfterWrite``, a ``KeyboardInterrupt`` subclass, means the Ctrl-C came
      after every file was in place: they are whole, and the program still stops.
    - A normal return means every file is in place.

    Raises:
        InvalidArgument (a ValueError): bad arguments (the message is gen's, naming the
            flag).
        OutputExists (a FileExistsError): the output exists and ``force`` was not given.
        FileError (an OSError): the file system refused.
        MemoryBudgetExceeded (a MemoryError): the run would exceed the memory budget.
        KeyboardInterrupt: Ctrl-C cancelled the run (see above).
    """
    args = _command_line(path, scheme, shape, dict(options))
    # Made before the worker exists, so a Ctrl-C from here on can never be too early to
    # count: the worker's run refuses to start on a cancelled token.
    token = _weightinit.CancelToken()
    outcome: List[BaseException] = []
    # Set by the worker as its last act. Not Thread.join or is_alive: on CPython 3.11 a
    # join that Ctrl-C interrupts marks the thread stopped while it still runs (the
    # bpo-45274 fix releases the thread's lock whenever it is held, here by the worker),
    # and the cleanup after a cancel would not be waited for.
    stopped = threading.Event()

    def run() -> None:
        try:
            _weightinit.run_quietly(args, token)
        except BaseException as e:  # handed to the caller's thread below
            outcome.append(e)
        finally:
            stopped.set()

    # The run goes on a worker thread so that Ctrl-C (KeyboardInterrupt, delivered to the
    # main thread) can cancel it. start() is inside the try: it waits for the thread and
    # can itself be interrupted. The wait has a timeout so that Ctrl-C gets through where
    # a blocked wait cannot be interrupted (Windows).
    worker = threading.Thread(target=run, name="weightinit-write")
    try:
        worker.start()
        while not stopped.wait(0.05):
            pass
    except KeyboardInterrupt:
        came_in_time: Optional[bool] = None
        while came_in_time is None:
            try:
                came_in_time = token.cancel()
            except KeyboardInterrupt:
                # A second Ctrl-C during the cancel: asking again gives the same answer
                # (the first cancel is the one that counted).
                pass
        _wait_until_stopped(stopped)
        if came_in_time:
            raise
        if outcome:  # too late to cancel, and a final rename failed: that is the news
            raise outcome[0] from None
        raise InterruptedAfterWrite(
            "interrupted after write() had put its files in place: they are whole"
        ) from None
    # No call from here to the return, so no interrupt can be raised inside write()
    # after the run ended (CPython runs signal handlers at calls and backward jumps).
    if outcome:
        raise outcome[0]

"""``write()``: the library's generation request (``weightinit gen``'s options as plain
values, no command line in between), run in this process on a worker thread that Ctrl-C
can cancel."""

from __future__ import annotations

import os
import signal
import threading
from types import FrameType
from typing import Any, Dict, List, Optional, Tuple

import numpy as np

from . import _weightinit
from ._args import dtype_name, shape_dims
from ._types import PathLike
from .errors import InterruptedAfterWrite


def _option_value(key: str, value: Any) -> Any:
    """One keyword argument of write() as the extension takes it: text, a bool, a whole
    number (``threads``) or a list of text (shapes as ``784x128``, names, rules)."""
    if isinstance(value, (bool, np.bool_)):
        return bool(value)
    if key == "threads" and isinstance(value, (int, np.integer)):
        return int(value)
    if key == "shape":
        if isinstance(value, str):
            return [value]
        if isinstance(value, (int, np.integer)) or (
            isinstance(value, (tuple, list)) and all(isinstance(d, (int, np.integer)) for d in value)
        ):
            value = [value]
        return ["x".join(str(d) for d in shape_dims(s)) for s in value]
    if key in ("rule", "rules", "name", "names", "mup_zero_readout") and isinstance(value, (list, tuple)):
        return [str(v) for v in value]
    if key == "dtype":
        return dtype_name(value)
    if isinstance(value, os.PathLike):
        return os.fspath(value)
    return str(value)


def _request(path: PathLike, scheme: Optional[str], shape: Any, options: Dict[str, Any]) -> Tuple[str, Dict[str, Any]]:
    """The output and the options of the library request for write()'s arguments."""
    target = os.fspath(path)
    # gen takes a directory when the path ends with a separator; a Hugging Face model
    # always goes to one, and an existing directory is one.
    if (options.get("hf_config") is not None and not os.path.splitext(target)[1]) or os.path.isdir(target):
        target = os.path.join(target, "")
    if scheme is not None:
        options["scheme"] = scheme
    if shape is not None:
        options["shape"] = shape
    values = {key: _option_value(key, value) for key, value in options.items() if value is not None}
    return target, values


class _CtrlC:
    """The SIGINT handler write() installs, in place of Python's default, the first time
    it runs in the main thread with that default in place; it stays installed. Outside a
    write() it does exactly what the default does (raise KeyboardInterrupt). During one,
    it cancels the run and raises the exception that matches the answer:
    KeyboardInterrupt (cancelled, nothing written) or InterruptedAfterWrite (the files
    were already in place); Ctrl-Cs after the first are absorbed while the worker stops.

    Why a handler, and why it stays: CPython runs a pending signal's handler at any call,
    so with only ``except KeyboardInterrupt`` a second Ctrl-C could raise a plain
    KeyboardInterrupt from the except block before it has learnt the answer, and a
    handler put back at the end of write() could raise one after the files were in
    place. Here write() only sets and clears :attr:`token` (no calls), and the token's
    answer never changes once given, so whichever Ctrl-C raises, it raises the right
    exception.
    """

    def __init__(self) -> None:
        #: The running write()'s token; None outside a write().
        self.token: Optional[_weightinit.CancelToken] = None
        self.handled = False

    def __call__(self, signum: int, frame: Optional[FrameType]) -> None:
        token = self.token
        if token is None:
            signal.default_int_handler(signum, frame)  # raises KeyboardInterrupt
        if self.handled:
            return
        self.handled = True
        if token.cancel():
            raise KeyboardInterrupt
        raise InterruptedAfterWrite(AFTER_WRITE)

    def install(self) -> bool:
        """Installs this handler if Python's default is in place (a program's own handler
        is left alone); returns whether this handler is the one in place. Main thread
        only (the one signals go to)."""
        if threading.current_thread() is not threading.main_thread():
            return False
        current = signal.getsignal(signal.SIGINT)
        if current is signal.default_int_handler:
            signal.signal(signal.SIGINT, self)
            return True
        return current is self


AFTER_WRITE = "interrupted after write() had put its files in place: they are whole"

_CTRL_C = _CtrlC()


def write(path: PathLike, scheme: Optional[str] = None, shape: Any = None, **options: Any) -> None:
    """Generate tensors straight to a file or directory, streaming in bounded memory.

    This is ``weightinit gen`` in this process (the same library request, built from the
    arguments, no command line in between): ``path`` is ``--output``, and every
    keyword argument is one of gen's options with ``_`` for ``-`` (``seed=0`` is
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

    For this, the first write() in the main thread replaces Python's default SIGINT
    handler with one that behaves the same outside write() and, during one, cancels and
    raises the matching exception (further Ctrl-Cs are absorbed until the worker has
    stopped). A handler of the program's own is left in place; what it raises is handled
    as above. Ctrl-C reaches only the main thread; writes in one process run one at a
    time.

    Raises:
        InvalidArgument (a ValueError): bad arguments (the message is gen's, naming the
            flag).
        OutputExists (a FileExistsError): the output exists and ``force`` was not given.
        FileError (an OSError): the file system refused.
        MemoryBudgetExceeded (a MemoryError): the run would exceed the memory budget.
        KeyboardInterrupt: Ctrl-C cancelled the run (see above).
    """
    target, values = _request(path, scheme, shape, dict(options))
    # Made before the worker exists, so a Ctrl-C from here on can never be too early to
    # count: the worker's run refuses to start on a cancelled token.
    token = _weightinit.CancelToken()
    outcome: List[BaseException] = []
    # Set by the worker as its last act. Not Thread.join or is_alive: on CPython 3.11 a
    # join that Ctrl-C interrupts marks the thread stopped while it still runs (the
    # bpo-45274 fix releases the thread's lock whenever it is held, here by the worker),
    # and the cleanup after a cancel would not be waited for.
    stopped = threading.Event()
    # Set by the worker as its first act: from then on it may create files, and a cancel
    # must wait for it to remove them. Before, a cancel need not wait: the worker may not
    # even exist (Ctrl-C inside start()), and if it starts later, the cancelled token
    # makes its run refuse at once, having created nothing.
    began = threading.Event()

    def run() -> None:
        began.set()
        try:
            _weightinit.write(target, values, token)
        except BaseException as e:  # handed to the caller's thread below
            outcome.append(e)
        finally:
            stopped.set()

    # The run goes on a worker thread so that Ctrl-C (KeyboardInterrupt, delivered to the
    # main thread) can cancel it. start() is inside the try: it waits for the thread and
    # can itself be interrupted. The wait has a timeout so that Ctrl-C gets through where
    # a blocked wait cannot be interrupted (Windows).
    worker = threading.Thread(target=run, name="weightinit-write")
    # A Ctrl-C before the handler is armed raises before anything has started.
    if _CTRL_C.install():
        _CTRL_C.handled = False
        _CTRL_C.token = token
    try:
        worker.start()
        while not stopped.wait(0.05):
            pass
    except KeyboardInterrupt:
        _CTRL_C.handled = True  # from here on, further Ctrl-Cs are absorbed
        came_in_time = token.cancel()  # what the handler answered, if it raised this
        if began.is_set():
            # It stops at its next write, having removed its temporaries.
            stopped.wait()
        if came_in_time:
            _CTRL_C.token = None  # disarmed without a call, as below
            raise
        # Made while the handler still absorbs (making it is a call).
        error = outcome[0] if outcome else InterruptedAfterWrite(AFTER_WRITE)
        _CTRL_C.token = None
        # (Too late to cancel, and with `outcome` a final rename failed: that is the news.)
        raise error from None
    # Disarmed without a call: a Ctrl-C from here on is the default's KeyboardInterrupt,
    # raised in the caller after write() has returned (CPython runs signal handlers at
    # calls and backward jumps, and there is neither from here to the return).
    _CTRL_C.token = None
    if outcome:
        raise outcome[0]

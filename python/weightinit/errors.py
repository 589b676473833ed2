"""The package's exceptions.

Each is a :class:`WeightinitError` and also the built-in exception code already catches
for that kind of failure, so ``except ValueError`` (``OSError``, ``FileExistsError``,
``MemoryError``, ``RuntimeError``) keeps working::

    WeightinitError
    ├── InvalidArgument        (ValueError)       a bad scheme, parameter, shape, seed, dtype, flag
    ├── FileError              (OSError)          the file system refused
    │   └── OutputExists       (FileExistsError)  the output exists and force=True was not given
    ├── MemoryBudgetExceeded   (MemoryError)      the job would exceed the memory budget
    └── NumericalError         (RuntimeError)     the arithmetic (or a chart) failed

The extension module raises these classes (``python/src/lib.rs`` imports them from here),
and the Python-side argument checks do too.

:class:`InterruptedAfterWrite` is not among them: it is the ``KeyboardInterrupt`` of a
Ctrl-C that came after ``write()`` had put its files in place (see ``write``).
"""

from __future__ import annotations


class WeightinitError(Exception):
    """Base class of every error weightinit raises."""


class InvalidArgument(WeightinitError, ValueError):
    """Bad input: an unknown scheme, a bad parameter, shape, seed, layout, stream, dtype
    or ``write()`` option. The message names the value and what is accepted."""


class FileError(WeightinitError, OSError):
    """The file system refused: a missing directory, no space, no permission."""


class OutputExists(FileError, FileExistsError):
    """The output file exists and ``force=True`` was not given."""


class MemoryBudgetExceeded(WeightinitError, MemoryError):
    """The job would hold more in memory than the budget allows (``max_memory=``)."""


class NumericalError(WeightinitError, RuntimeError):
    """A computation failed: the arithmetic of a scheme, or drawing a chart."""


class InterruptedAfterWrite(KeyboardInterrupt):
    """Ctrl-C arrived after ``write()`` had put every file of its run in place: the files
    are whole. It is a ``KeyboardInterrupt``, so the program still stops as the user asked,
    but not the plain one, which ``write()`` raises only when nothing was written."""

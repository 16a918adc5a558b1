"""Progress over the runs of a study: a tqdm bar on a terminal, plain lines otherwise.

Example:
    >>> import io
    >>> out = io.StringIO()
    >>> p = Progress(total=2, stream=out)
    >>> p.update("b/RS/0", "done", 0.1); p.update("b/RS/1", "failed", 0.2); p.close()
    >>> "1 done, 1 failed" in out.getvalue()
    True
"""
from __future__ import annotations

import sys
import time
from typing import IO

__all__ = ["Progress"]


def _fmt_seconds(s: float) -> str:
    s = int(round(s))
    h, rem = divmod(s, 3600)
    m, sec = divmod(rem, 60)
    return f"{h}:{m:02d}:{sec:02d}"


class Progress:
    """Counts finished runs (done / failed) and shows them.

    ``bar=None`` picks a tqdm bar when ``stream`` is a TTY and plain lines otherwise
    (fine for logs, CI and ``watch``).

    Example:
        >>> import sys
        >>> p = Progress(total=2, stream=sys.stdout, bar=False)
        >>> p.update("digits/RS/0", "done", 0.5)
        [1/2] done   digits/RS/0 0.50s | 1 done, 0 failed, ETA ...
        >>> p.update("digits/RS/1", "failed", 0.2)
        [2/2] failed digits/RS/1 0.20s | 1 done, 1 failed
        >>> p.finished, p.done, p.failed
        (2, 1, 1)
        >>> p.close()
    """

    def __init__(self, total: int, stream: IO[str] | None = None, bar: bool | None = None,
                 skipped: int = 0, label: str = "runs"):
        self.total = total
        self.stream = stream if stream is not None else sys.stderr
        self.done = 0
        self.failed = 0
        self.elsewhere = 0
        self.skipped = skipped
        self.start = time.perf_counter()
        if bar is None:
            bar = bool(getattr(self.stream, "isatty", lambda: False)())
        self._bar = None
        if bar:
            from tqdm.auto import tqdm

            self._bar = tqdm(total=total, file=self.stream, unit="run", desc=label, dynamic_ncols=True)
        elif skipped:
            print(f"{skipped} run(s) already done, {total} to run", file=self.stream, flush=True)

    @property
    def finished(self) -> int:
        return self.done + self.failed + self.elsewhere

    def eta(self) -> float | None:
        if not self.finished:
            return None
        elapsed = time.perf_counter() - self.start
        return elapsed / self.finished * (self.total - self.finished)

    def update(self, name: str, status: str, seconds: float | None = None) -> None:
        if status == "done":
            self.done += 1
        elif status == "elsewhere":       # claimed by another process: not computed here
            self.elsewhere += 1
        else:
            self.failed += 1
        if self._bar is not None:
            self._bar.set_postfix(done=self.done, failed=self.failed, refresh=False)
            self._bar.update(1)
            return
        width = len(str(self.total))
        eta = self.eta()
        took = f" {seconds:.2f}s" if seconds is not None else ""
        eta_s = f", ETA {_fmt_seconds(eta)}" if eta is not None and self.finished < self.total else ""
        print(f"[{self.finished:>{width}}/{self.total}] {status:<6} {name}{took} | "
              f"{self.done} done, {self.failed} failed{eta_s}", file=self.stream, flush=True)

    def close(self) -> None:
        if self._bar is not None:
            self._bar.close()
            self._bar = None

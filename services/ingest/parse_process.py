"""Files are parsed in a process of their own, while the ingest process stores.

Parsing a D+1 file, and preparing its chunks (domain/chunks.py), is about a
third of ingest's CPU and needs no database. In a parse process it runs on
another core, a chunk ahead of the chunk the ingest process is storing; in the
ingest process it would take turns with storing on one core (the GIL).

The ingest process streams the file's bytes to the parse process over one pipe
(from a thread, so a full pipe never blocks the storing) and takes prepared
chunks from another. A pipe holds little, so memory stays bounded: the parse
process waits while its next chunk is not taken. Parse processes are started
once and kept, one per file being ingested at the same time; one that failed or
was left mid-file is stopped, not reused.
"""
from __future__ import annotations

import gc
import multiprocessing
import signal
import threading
import traceback
from collections.abc import Iterable, Iterator
from contextlib import contextmanager

from services.ingest.domain.chunks import PreparedChunk, prepared_chunks
from services.ingest.domain.model import DetectedFormat, UnparseableFile
from services.ingest.domain.parsing import parse_file
from services.ingest.domain.profiles import FeedProfile

# A D+1 file allocates millions of short-lived floats, lists and row objects, almost
# none of them in reference cycles: at the default 700 the collector runs thousands
# of times per file for nothing (about 15% of ingest time at 100,000 meters).
GC_THRESHOLDS = (50_000, 20, 100)
_CONTEXT = multiprocessing.get_context("spawn")  # a fresh interpreter: no inherited threads or locks
_END = b""  # after a file's last piece of bytes


def tune_gc() -> None:
    """Collect less often, and never re-scan what was loaded at start-up."""
    gc.freeze()
    gc.set_threshold(*GC_THRESHOLDS)


class _Worker:
    def __init__(self) -> None:
        self.inbox, inbox = _CONTEXT.Pipe(duplex=False)  # results: parse process -> ingest
        outbox, self.outbox = _CONTEXT.Pipe(duplex=False)  # bytes: ingest -> parse process
        self.process = _CONTEXT.Process(target=_serve, args=(outbox, inbox), name="ingest-parse", daemon=True)
        self.process.start()
        inbox.close()
        outbox.close()

    def stop(self) -> None:
        """Between files: the parse process leaves when its input ends."""
        self.outbox.close()
        self.process.join(5)
        self.kill()

    def kill(self) -> None:
        """Stop the parse process, mid-file too, and close its pipes."""
        self.process.kill()
        self.process.join()
        self.outbox.close()
        self.inbox.close()


_idle: list[_Worker] = []
_idle_lock = threading.Lock()


def start(n: int = 1) -> None:
    """Start parse processes ahead of the first file (each takes about a second to start)."""
    started = [_Worker() for _ in range(max(0, n - len(_idle)))]
    with _idle_lock:
        _idle.extend(started)


def stop_all() -> None:
    with _idle_lock:
        workers = _idle[:]
        _idle.clear()
    for worker in workers:
        worker.stop()


class ParsedFile:
    """A file being parsed in a parse process: the format it detected, its prepared
    chunks as they come (``chunks()``, once), and then how many rows it read."""

    def __init__(self, worker: _Worker, feeder: _Feeder) -> None:
        self._worker, self._feeder = worker, feeder
        self.rows_read = 0
        self.finished = False
        self.detected: DetectedFormat = self._next("detected")

    def chunks(self) -> Iterator[PreparedChunk]:
        while (chunk := self._next("chunk", "done")) is not None:
            yield chunk

    def _next(self, *expected: str):
        try:
            kind, payload = self._worker.inbox.recv()
        except EOFError:
            kind, payload = "failed", f"the parse process exited with {self._worker.process.exitcode}"
        if self._feeder.error is not None:  # the bytes could not be read (e.g. over the size limit)
            raise self._feeder.error
        if kind == "unparseable":
            raise UnparseableFile(payload)
        if kind == "failed":
            raise RuntimeError(f"parsing failed in the parse process: {payload}")
        assert kind in expected, (kind, expected)
        if kind == "done":
            self.rows_read, self.finished = payload, True
            return None
        return payload


@contextmanager
def parsed(data: Iterable[bytes], filename: str, profile: FeedProfile | None, mpxn: str | None,
           chunk_size: int) -> Iterator[ParsedFile]:
    """Parse ``data`` in a parse process; raises UnparseableFile for a file that cannot
    be read at all (at once, or from ``chunks()`` when it shows later)."""
    with _idle_lock:
        worker = _idle.pop() if _idle else None
    worker = worker or _Worker()
    worker.outbox.send((filename, profile, mpxn, chunk_size))
    feeder = _Feeder(data, worker)
    reusable = False
    try:
        result = ParsedFile(worker, feeder)
        yield result
        reusable = result.finished
    except UnparseableFile:
        reusable = feeder.error is None  # the parse process reads the rest of the bytes and waits for the next file
        raise
    finally:
        if reusable and worker.process.is_alive():
            feeder.join()
            with _idle_lock:
                _idle.append(worker)
        else:
            worker.process.kill()  # a feeder blocked on the pipe then fails at once,
            feeder.join()  # and is done with the pipe before it is closed
            worker.kill()


class _Feeder(threading.Thread):
    """Sends the file's bytes to the parse process. An error reading them (a client
    that went away, an upload over the limit) ends the input early and is raised
    in the ingest process, by ParsedFile."""

    def __init__(self, data: Iterable[bytes], worker: _Worker) -> None:
        super().__init__(name="ingest-parse-feeder", daemon=True)
        self._data, self._worker = data, worker
        self.error: BaseException | None = None
        self.start()

    def run(self) -> None:
        try:
            for piece in self._data:
                if piece:
                    self._worker.outbox.send_bytes(piece)
            self._worker.outbox.send_bytes(_END)
        except BrokenPipeError:
            pass  # the parse process is gone; ParsedFile reports it
        except BaseException as exc:  # noqa: BLE001 - handed over to the ingest process's thread
            self.error = exc
            self._worker.outbox.close()  # the parse process sees its input end and leaves


class _Input:
    """A file's bytes as the parse process receives them, up to the end marker."""

    def __init__(self, conn) -> None:
        self._conn, self.ended = conn, False

    def __iter__(self) -> Iterator[bytes]:
        while not self.ended:
            piece = self._conn.recv_bytes()
            if piece == _END:
                self.ended = True
                return
            yield piece

    def skip_rest(self) -> None:
        """Read what the parser did not, so the next file starts at its own first bytes."""
        for _ in self:
            pass


def _serve(inbox, outbox) -> None:
    """The parse process: files one after another until the ingest process closes the pipe."""
    signal.signal(signal.SIGINT, signal.SIG_IGN)  # Ctrl-C reaches the whole group: the ingest process decides
    tune_gc()
    while True:
        try:
            filename, profile, mpxn, chunk_size = inbox.recv()
        except (EOFError, OSError):
            return  # the ingest process is gone, or stopped this parse process
        data = _Input(inbox)
        try:
            result = parse_file(data, filename, profile, mpxn=mpxn)
            outbox.send(("detected", result.detected))
            for chunk in prepared_chunks(result.stream(), chunk_size):
                outbox.send(("chunk", chunk))
            outbox.send(("done", result.rows_read))
        except UnparseableFile as exc:
            outbox.send(("unparseable", exc.reason))
        except (EOFError, OSError):
            return  # the input ended early: the ingest process stops this parse process
        except Exception:  # noqa: BLE001 - a parser bug: reported, and the ingest process stops this process
            outbox.send(("failed", traceback.format_exc()))
            return
        try:
            data.skip_rest()
        except (EOFError, OSError):
            return

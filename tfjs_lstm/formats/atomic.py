"""Write a folder or file beside its destination, then rename: on failure nothing is left."""

from __future__ import annotations

import os
import shutil
import tempfile
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path


@contextmanager
def staged_folder(destination: str | os.PathLike) -> Iterator[Path]:
    """Yield a temp folder beside `destination`; on success it replaces `destination`."""
    destination = Path(destination)
    destination.parent.mkdir(parents=True, exist_ok=True)
    stage = Path(tempfile.mkdtemp(prefix=f".{destination.name}.", dir=destination.parent))
    try:
        yield stage
        os.chmod(stage, 0o777 & ~_umask())
        _replace(stage, destination)
    except BaseException:
        shutil.rmtree(stage, ignore_errors=True)
        raise


@contextmanager
def staged_file(destination: str | os.PathLike) -> Iterator[Path]:
    """Yield a temp file path beside `destination`; on success it replaces `destination`."""
    destination = Path(destination)
    destination.parent.mkdir(parents=True, exist_ok=True)
    handle, name = tempfile.mkstemp(prefix=f".{destination.name}.", dir=destination.parent)
    os.close(handle)
    stage = Path(name)
    try:
        yield stage
        os.chmod(stage, 0o666 & ~_umask())
        os.replace(stage, destination)
    except BaseException:
        stage.unlink(missing_ok=True)
        raise


def _umask() -> int:
    """The process umask: temp files are created private, outputs get what open() gives."""
    mask = os.umask(0o022)
    os.umask(mask)
    return mask


def _replace(stage: Path, destination: Path) -> None:
    if not destination.exists():
        os.replace(stage, destination)
        return
    old = Path(tempfile.mkdtemp(prefix=f".{destination.name}.old.", dir=destination.parent))
    old.rmdir()
    os.replace(destination, old)
    os.replace(stage, destination)
    shutil.rmtree(old, ignore_errors=True) if old.is_dir() else old.unlink(missing_ok=True)

"""Fetch a published data file once, kept only when its MD5 is the published one; unpack archives safely.

    fetch(url_for(base, "train-images-idx3-ubyte.gz"), folder / "train-images-idx3-ubyte.gz", md5)

Loaders come here only with data.download=true, and only for files that are missing. data.mirror
replaces a data set's base URL; the file names and checksums stay those of the original.
"""

import hashlib
import http.client
import os
import shutil
import sys
import tarfile
import tempfile
import zlib
from pathlib import Path

from dlx.config.errors import ConfigError

TIMEOUT_S = 60  # for connecting and for each read, not for the whole transfer
CHUNK = 1 << 20


def url_for(base: str, filename: str) -> str:
    return base.rstrip("/") + "/" + filename


def fetch(url: str, dest: Path, md5: str) -> Path:
    """Download url to dest through a temporary file beside it: verified, fsynced, renamed; never half a file."""
    dest.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(dir=dest.parent, prefix=f".{dest.name}.", suffix=".part")
    try:
        print(f"dlx: downloading {url}", file=sys.stderr, flush=True)
        with os.fdopen(fd, "wb") as f:
            found = _stream(url, f, dest)
            f.flush()
            os.fsync(f.fileno())
        if found != md5:
            raise ConfigError(
                "data.download",
                f"{url} has MD5 {found}, expected the published {md5}: the file was not kept "
                "(a broken transfer or a mirror serving other bytes; try again or check data.mirror)",
            )
        os.replace(tmp, dest)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise
    return dest


def _stream(url: str, f, dest: Path) -> str:
    """Copy url's bytes into the open file f; their MD5."""
    import urllib.request

    digest = hashlib.md5(usedforsecurity=False)
    try:
        with urllib.request.urlopen(url, timeout=TIMEOUT_S) as response:
            while chunk := response.read(CHUNK):
                digest.update(chunk)
                f.write(chunk)
    except (OSError, http.client.HTTPException, ValueError) as e:  # URLError, timeouts, bad URLs, cut transfers
        reason = getattr(e, "reason", None) or e
        raise ConfigError(
            "data.download",
            f"could not fetch {url} ({reason}): put {dest.name} in {dest.parent.absolute()} by hand, "
            "or set data.mirror to a base URL that serves it",
        ) from None
    return digest.hexdigest()


def fetch_archive(url: str, folder: Path, md5: str) -> None:
    """Download a verified .tar.gz into folder, unpack it there, then remove it: the unpacked files are what is read."""
    archive = fetch(url, folder / url.rsplit("/", 1)[-1], md5)
    try:
        extract_tar(archive, folder)
    finally:
        archive.unlink(missing_ok=True)


def extract_tar(archive: Path, into: Path) -> None:
    """Unpack into a staging folder first (tarfile's "data" filter refuses absolute paths, links out, devices),
    then move the files into place, so an interrupted unpack leaves no half-written data file."""
    if not hasattr(tarfile, "data_filter"):
        raise ConfigError(
            "data.download",
            f"this Python ({sys.version.split()[0]}) cannot unpack archives safely (tarfile filters arrived in "
            f"3.10.12 / 3.11.4): unpack {archive} in {into} by hand",
        )
    staging = Path(tempfile.mkdtemp(dir=into, prefix=".unpack-"))
    try:
        with tarfile.open(archive) as tar:
            tar.extractall(staging, filter="data")
        for item in staging.iterdir():
            _move_into(item, into / item.name)
    except (tarfile.TarError, OSError, EOFError, zlib.error) as e:
        raise ConfigError("data.download", f"could not unpack {archive}: {e}") from None
    finally:
        shutil.rmtree(staging, ignore_errors=True)


def _move_into(src: Path, dst: Path) -> None:
    """Move src to dst, merging into a folder already there (a partly unpacked earlier attempt)."""
    if src.is_dir() and dst.is_dir():
        for child in src.iterdir():
            _move_into(child, dst / child.name)
    else:
        os.replace(src, dst)

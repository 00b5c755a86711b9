"""data.download=true against a local HTTP server standing in for the data set's site (data.mirror)."""

import functools
import hashlib
import http.server
import io
import shutil
import tarfile
import threading
from pathlib import Path

import pytest

from dlx.config.errors import ConfigError
from dlx.data import cifar, idx
from dlx.data.download import fetch
from tests.data.formats_idx_cifar import write_cifar10, write_mnist


class Server:
    """Serves `folder` on 127.0.0.1; `requests` lists the paths asked for."""

    def __init__(self, folder: Path):
        self.folder, self.requests = folder, []
        requests = self.requests

        class Handler(http.server.SimpleHTTPRequestHandler):
            def do_GET(self):
                requests.append(self.path)
                super().do_GET()

            def log_message(self, *args):
                pass

        self.httpd = http.server.ThreadingHTTPServer(("127.0.0.1", 0), functools.partial(Handler, directory=folder))
        self.url = f"http://127.0.0.1:{self.httpd.server_address[1]}/"
        threading.Thread(target=self.httpd.serve_forever, args=(0.05,), daemon=True).start()


@pytest.fixture
def server(tmp_path: Path):
    served = tmp_path / "served"
    served.mkdir()
    s = Server(served)
    yield s
    s.httpd.shutdown()
    s.httpd.server_close()


def md5_of(path: Path) -> str:
    return hashlib.md5(path.read_bytes()).hexdigest()


def serve_mnist(server: Server, tmp_path: Path, monkeypatch) -> None:
    """Small MNIST .gz files on the server; the checksum table made to name theirs."""
    write_mnist(tmp_path / "made", n_train=100, n_test=30)
    for f in (tmp_path / "made" / "mnist").iterdir():
        shutil.copy(f, server.folder / f.name)
        monkeypatch.setitem(idx.MNIST_MD5, f.name, md5_of(f))


def test_mnist_downloads_once_from_the_mirror_and_loads(server, tmp_path: Path, monkeypatch):
    serve_mnist(server, tmp_path, monkeypatch)
    data = tmp_path / "data"
    dm = idx.mnist(root=str(data), download=True, mirror=server.url, val_fraction=0.1)
    assert sorted(server.requests) == sorted(f"/{name}" for name in idx.MNIST_MD5)
    assert sorted(p.name for p in (data / "mnist").iterdir()) == sorted(idx.MNIST_MD5), "no temporary file left"
    assert {s: len(y) for s, (_, y) in dm.splits.items()} == {"train": 90, "val": 10, "test": 30}
    idx.mnist(root=str(data), download=True, mirror=server.url)
    assert len(server.requests) == 4, "files present: nothing downloaded again"


def test_a_file_with_another_checksum_is_not_kept(server, tmp_path: Path, monkeypatch):
    serve_mnist(server, tmp_path, monkeypatch)
    first = server.folder / "train-images-idx3-ubyte.gz"  # the first fetched
    published = idx.MNIST_MD5[first.name]
    first.write_bytes(first.read_bytes()[:-1] + b"!")
    with pytest.raises(ConfigError) as e:
        idx.mnist(root=str(tmp_path / "data"), download=True, mirror=server.url)
    message = str(e.value)
    assert f"{server.url}train-images-idx3-ubyte.gz" in message and "the file was not kept" in message
    assert published in message and md5_of(first) in message
    assert list((tmp_path / "data" / "mnist").iterdir()) == [], "neither the file nor its temporary copy"


def test_an_unreachable_server_names_the_url_and_the_folder_to_fill_by_hand(tmp_path: Path):
    closed = http.server.HTTPServer(("127.0.0.1", 0), http.server.BaseHTTPRequestHandler)
    url = f"http://127.0.0.1:{closed.server_address[1]}/"
    closed.server_close()  # nothing listens there now
    dest = tmp_path / "data" / "mnist" / "train-images-idx3-ubyte.gz"
    with pytest.raises(ConfigError) as e:
        fetch(url + dest.name, dest, "0" * 32)
    assert f"could not fetch {url}{dest.name}" in str(e.value) and str(dest.parent) in str(e.value)
    assert list(dest.parent.iterdir()) == []


def tar_gz(members: dict[str, bytes]) -> bytes:
    buffer = io.BytesIO()
    with tarfile.open(fileobj=buffer, mode="w:gz") as tar:
        for name, data in members.items():
            info = tarfile.TarInfo(name)
            info.size = len(data)
            tar.addfile(info, io.BytesIO(data))
    return buffer.getvalue()


def test_cifar10_archive_is_verified_unpacked_and_removed(server, tmp_path: Path, monkeypatch):
    written = write_cifar10(tmp_path / "made", n_train=100, n_test=30)
    batches = tmp_path / "made" / "cifar10" / "cifar-10-batches-py"
    archive = server.folder / "cifar-10-python.tar.gz"
    archive.write_bytes(tar_gz({f"cifar-10-batches-py/{f.name}": f.read_bytes() for f in batches.iterdir()}))
    monkeypatch.setitem(cifar.CIFAR10_MD5, archive.name, md5_of(archive))
    data = tmp_path / "data"
    dm = cifar.cifar10(root=str(data), download=True, mirror=server.url)
    assert server.requests == ["/cifar-10-python.tar.gz"]
    assert [p.name for p in (data / "cifar10").iterdir()] == ["cifar-10-batches-py"], "archive and staging removed"
    assert len(dm.splits["test"][1]) == 30 and dm.splits["test"][1].tolist() == written["test"][1].tolist()
    cifar.cifar10(root=str(data), download=True, mirror=server.url)
    assert len(server.requests) == 1


def test_an_archive_reaching_outside_its_folder_is_refused(server, tmp_path: Path, monkeypatch):
    archive = server.folder / "cifar-10-python.tar.gz"
    archive.write_bytes(tar_gz({"../../escaped": b"x"}))
    monkeypatch.setitem(cifar.CIFAR10_MD5, archive.name, md5_of(archive))
    with pytest.raises(ConfigError, match="could not unpack"):
        cifar.cifar10(root=str(tmp_path / "data"), download=True, mirror=server.url)
    assert not list(tmp_path.rglob("escaped"))
    assert list((tmp_path / "data" / "cifar10").iterdir()) == []

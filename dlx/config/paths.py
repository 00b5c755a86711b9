"""Where configs are found: the user's dirs first (--config-dir, then ./conf), then dlx's own conf/."""

from pathlib import Path

import dlx


def packaged_conf_dir() -> Path:
    """dlx/conf inside an installed wheel, or the repository's top-level conf/ in a source checkout."""
    here = Path(dlx.__file__).resolve().parent
    for candidate in (here / "conf", here.parent / "conf"):
        if (candidate / "config.yaml").is_file():
            return candidate
    raise FileNotFoundError(f"dlx's configs are missing: no conf/config.yaml next to {here}")


def config_search_dirs(config_dir: str | None = None, cwd: Path | None = None) -> list[Path]:
    """Ordered, de-duplicated; the first dir holding a file wins."""
    cwd = cwd or Path.cwd()
    dirs = []
    if config_dir is not None:
        path = Path(config_dir).resolve()
        if not path.is_dir():
            from dlx.config.errors import ConfigError

            raise ConfigError("--config-dir", f"'{config_dir}' is not a directory")
        dirs.append(path)
    if (cwd / "conf").is_dir():
        dirs.append((cwd / "conf").resolve())
    dirs.append(packaged_conf_dir())
    return list(dict.fromkeys(dirs))

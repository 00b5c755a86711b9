"""Compose a config the way `dlx train` does, outside Hydra's app: for commands that read one (data check).

cfg, choices = compose_config(["data=csv", "data.path=t.csv"], config_dir=None)
"""

from collections.abc import Mapping


def compose_config(overrides: list[str], config_dir: str | None = None) -> tuple[dict, Mapping[str, str]]:
    """(resolved config as plain containers, group -> chosen option); user config dirs searched first."""
    from hydra import compose, initialize_config_dir
    from omegaconf import OmegaConf

    from dlx.config.paths import config_search_dirs
    from dlx.train.command import register_resolvers, search_user_dirs_first

    *user_dirs, packaged = config_search_dirs(config_dir)
    search_user_dirs_first(user_dirs)
    register_resolvers()
    with initialize_config_dir(config_dir=str(packaged), version_base="1.3"):
        cfg = compose(config_name="config", overrides=overrides, return_hydra_config=True)
    choices = {k: v for k, v in cfg.hydra.runtime.choices.items() if not k.startswith("hydra")}
    OmegaConf.set_struct(cfg, False)
    del cfg["hydra"]  # before resolving: hydra.sweep.dir would create a directory
    return OmegaConf.to_container(cfg, resolve=True), choices

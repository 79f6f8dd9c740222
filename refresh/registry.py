"""What the registered Piccolo apps provide, found through piccolo_conf's APP_REGISTRY.

Platform and lower apps never import the apps above them; where they need what those
apps contribute (every tenant table, each app's demo rows), they ask the registry, the
way Django's admin discovers each installed app's `admin` module.
"""

from __future__ import annotations

import importlib
import importlib.util
from types import ModuleType

from piccolo.conf.apps import AppConfig, Finder


def app_packages() -> list[tuple[AppConfig, str]]:
    """(app config, package) of every registered app, in registry order."""
    registry = Finder().get_app_registry()
    configs = list(registry.app_configs.values())
    return [
        (config, module.rpartition(".")[0])
        for config, module in zip(configs, registry.apps, strict=True)
    ]


def contributions(module_name: str) -> list[tuple[AppConfig, ModuleType]]:
    """Each registered app's `<package>.<module_name>` module, where it has one."""
    found = []
    for config, package in app_packages():
        name = f"{package}.{module_name}"
        if package and importlib.util.find_spec(name) is not None:
            found.append((config, importlib.import_module(name)))
    return found

"""The settings: one frozen ``Settings`` built from defaults < file < environment < overrides.

``model`` holds the sections and their validation, ``loader`` reads the TOML file and the
environment into them and points every error at its line.
"""

from govarchive.settings.loader import example_config, load_settings
from govarchive.settings.model import (
    DEFAULT_CONFIG_NAME,
    ENV_PREFIX,
    ArchiveSettings,
    ConfigError,
    ConfigProblem,
    CrawlSettings,
    RulesSettings,
    ServiceSettings,
    Settings,
    SourceSettings,
    StorageSettings,
    TrackingSettings,
    UnknownSourceError,
    WatchSettings,
    WebSettings,
    parse_duration,
    parse_size,
)

__all__ = [
    "DEFAULT_CONFIG_NAME",
    "ENV_PREFIX",
    "ArchiveSettings",
    "ConfigError",
    "ConfigProblem",
    "CrawlSettings",
    "RulesSettings",
    "ServiceSettings",
    "Settings",
    "SourceSettings",
    "StorageSettings",
    "TrackingSettings",
    "UnknownSourceError",
    "WatchSettings",
    "WebSettings",
    "example_config",
    "load_settings",
    "parse_duration",
    "parse_size",
]


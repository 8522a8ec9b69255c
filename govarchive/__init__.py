"""govarchive: wiring for the command line and the settings model."""

__version__ = "0.1.0"

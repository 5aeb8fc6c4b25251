"""vcore-app: a self-hosted job runner in one process."""

__version__ = "0.1.0"

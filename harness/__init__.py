"""harness: measure how Python dependency sets behave on container base images."""

__version__ = "0.1.0"

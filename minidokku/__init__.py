"""minidokku: a Heroku-style platform for one small VPS."""

__version__ = "0.1.0"

"""vae_course: the shared, tested code behind the vae-course lessons.

Import modules by name, e.g. ``from vae_course import data, models, plots``.
Importing the package has no side effects: no seeding, no rcParams changes, no downloads.
"""

__version__ = "0.1.0"

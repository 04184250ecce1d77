"""Errors a user can cause. The CLI prints them as one line and exits non-zero, no traceback."""


class FacepointsError(Exception):
    """Base class: the message is complete and fit to show a user as it is."""


class DataError(FacepointsError):
    """A data file is missing, unreadable or malformed. The message names the file (and row)."""

    def __init__(self, path, problem: str, row: int | None = None):
        where = f"{path}" if row is None else f"{path}: row {row}"
        super().__init__(f"{where}: {problem}")
        self.path, self.problem, self.row = path, problem, row


class OptionError(FacepointsError):
    """An option's value that only the loaded model can judge (a scheme it cannot give): a usage
    error, so the CLI exits 2 as for any other."""


class ModelError(FacepointsError):
    """A model file is missing, corrupt or does not fit the request."""


class ImageError(DataError):
    """An image file is missing, not an image, corrupt, or too large to decode safely."""


class UnsupportedImageError(ImageError):
    """The bytes are not an image in a format facepoints reads (JPEG, PNG, WebP, BMP, TIFF, GIF)."""

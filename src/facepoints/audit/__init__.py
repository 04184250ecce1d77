"""Audit a keypoint data set: missing values, duplicates, wrong labels and odd pictures.

`audit_keypoint_set` runs every check on a KeypointSet; `write_suspects` and `write_report` save
what it found; `read_exclusions` reads the top suspects back for `facepoints train --exclude`.
"""

from facepoints.audit.run import AuditResult, audit_keypoint_set
from facepoints.audit.suspects import Suspect, read_exclusions, write_suspects

__all__ = ["AuditResult", "Suspect", "audit_keypoint_set", "read_exclusions", "write_suspects"]

"""Type stubs of the extension module ``geocells._geocells`` (python/src/lib.rs). Users call
the ``geocells`` package, which wraps these."""

import os
from typing import Any, Callable, Dict, List, Optional, Sequence, Tuple, Union

__version__: str

class GeocellsError(Exception):
    """An error of the geocells library; the message is the library's own."""

class InputError(GeocellsError):
    """An input file or table could not be used (the message names the file, row or feature)."""

class ParamsError(GeocellsError):
    """A parameter is out of range (the message gives the allowed range)."""

class OutputError(GeocellsError):
    """The outputs could not be written or checked."""

_Progress = Optional[Callable[[int, str, int, int], Any]]
_Level = Optional[Dict[str, Any]]

class RunHandle:
    """A finished run."""

    def cells(self) -> object:
        """The ``cells.parquet`` table as an Arrow C stream capsule."""
    def labels(self) -> object:
        """The point labels as an Arrow C stream capsule."""
    def targets(self) -> object:
        """The ``targets.parquet`` table as an Arrow C stream capsule."""
    def rejects(self) -> object:
        """The ``rejects.parquet`` table as an Arrow C stream capsule."""
    def report_json(self) -> str:
        """``report.json`` (without its manifest) as JSON text."""
    def problems(self) -> List[str]:
        """What the partition check found."""
    def num_cells(self) -> int:
        """Number of cells."""
    def write(
        self,
        out: Union[str, os.PathLike],
        map_points: bool = False,
        map_width: int = 2400,
        progress: _Progress = None,
        map_bbox: Union[None, str, Tuple[float, float, float, float]] = None,
        map_colour: str = "cell",
    ) -> List[str]:
        """Writes every output file into ``out`` as one unit; returns the paths. ``map_bbox``:
        a name (``new-york``, ``los-angeles``, ``paris``, ``tokyo``) or four numbers;
        ``map_colour``: ``cell`` or ``rule``."""

def build(
    points: Any,
    columns: Dict[str, Optional[str]],
    admin0: _Level,
    admin1: _Level,
    admin2: _Level,
    params: Dict[str, Any],
    threads: Optional[int] = None,
    progress: _Progress = None,
    validate: bool = True,
    shards: Optional[Sequence[Union[str, os.PathLike]]] = None,
) -> RunHandle:
    """Builds the cells (``Pipeline::run``), or merges the runs in ``shards`` (``Pipeline::merge``)."""

def assign_once(
    points: Any,
    columns: Dict[str, Optional[str]],
    admin0: _Level,
    admin1: _Level,
    admin2: _Level,
    params: Dict[str, Any],
    out: Union[str, os.PathLike],
    threads: Optional[int] = None,
    progress: _Progress = None,
) -> str:
    """Assigns the points once and writes the dataset partitioned by country to ``out``; returns the manifest (JSON)."""

def check_output(dir: Union[str, os.PathLike]) -> Tuple[bool, Optional[str], List[str]]:
    """Checks an output directory: ``(consistent, run_id, problems)``."""

def assign(cells: Union[RunHandle, str, os.PathLike], points: Any) -> object:
    """Assigns points (a table with ``lon``, ``lat``) to cells: a capsule of ``cell_id``, ``distance_km``."""

def smooth(points: Any, centroids: Any, tau_km: float, top_k: int) -> object:
    """Smoothed targets of points against cell centroids: a capsule of ``point``, ``rank``, ``cell_id``, ``weight``."""

def metrics(table: Any) -> str:
    """Prediction metrics of ``true_lon``, ``true_lat``, ``pred_lon``, ``pred_lat`` as JSON text."""

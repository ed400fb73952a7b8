"""Type stubs of the sxplan package (see __init__.py for the documentation)."""

import os
from typing import Any, Dict, KeysView, List, Optional, Tuple, Union

import numpy
import pandas

__version__: str

Source = Union[str, os.PathLike[str]]

class SxplanError(Exception): ...

class FlowsheetError(SxplanError):
    diagnostics: List[Diagnostic]
    rendered: str

class SolverError(SxplanError): ...

class Diagnostic:
    @property
    def file(self) -> str: ...
    @property
    def line(self) -> int: ...
    @property
    def column(self) -> int: ...
    @property
    def severity(self) -> str: ...
    @property
    def code(self) -> str: ...
    @property
    def message(self) -> str: ...
    @property
    def help(self) -> Optional[str]: ...

class Result:
    @property
    def json(self) -> str: ...
    @property
    def data(self) -> Dict[str, Any]: ...
    def __getitem__(self, key: str) -> Any: ...
    def __contains__(self, key: object) -> bool: ...
    def get(self, key: str, default: Any = ...) -> Any: ...
    def keys(self) -> KeysView[str]: ...
    @property
    def status(self) -> str: ...

class Simulation(Result):
    def circuits(self) -> List[str]: ...
    def product(self, name: str) -> Dict[str, Any]: ...
    def stage_array(self, circuit: str) -> Tuple[List[str], numpy.ndarray]: ...
    def stage_profile(self, circuit: str) -> pandas.DataFrame: ...

class Optimization(Result):
    optimized_toml: Optional[str]
    toml_error: Optional[str]

class DesignResult(Result):
    circuit_toml: Optional[str]

def check(src: Source, *, name: Optional[str] = ...) -> Dict[str, Any]: ...
def simulate(
    src: Source,
    *,
    name: Optional[str] = ...,
    substitution: bool = ...,
    time_limit: Optional[float] = ...,
    max_iterations: Optional[int] = ...,
) -> Simulation: ...
def optimize(
    src: Source,
    *,
    name: Optional[str] = ...,
    objective: Optional[str] = ...,
    max_passes: Optional[int] = ...,
    backend: str = ...,
    time_limit: Optional[float] = ...,
    max_iterations: Optional[int] = ...,
) -> Optimization: ...
def design(
    src: Source,
    circuit: str,
    *,
    name: Optional[str] = ...,
    purity_a: Optional[float] = ...,
    purity_b: Optional[float] = ...,
    sensitivity: bool = ...,
    max_stages: int = ...,
) -> DesignResult: ...
def scenarios(
    src: Source,
    *,
    name: Optional[str] = ...,
    mud_t_per_day: Optional[List[float]] = ...,
    grades: Optional[List[str]] = ...,
    prices: Optional[List[str]] = ...,
    optimize: bool = ...,
) -> List[Dict[str, Any]]: ...

class FitResult(Result):
    toml: str
    converged: bool
    def param(self, name: str, element: Optional[str] = ...) -> Dict[str, Any]: ...

def fit(
    data: Source,
    *,
    name: Optional[str] = ...,
    model: str = ...,
    fit_a1: bool = ...,
    fix_c: Optional[float] = ...,
    n_extractant: float = ...,
    fit_n: bool = ...,
    z_proton: Optional[float] = ...,
    fit_z: bool = ...,
    ref_ph: Optional[float] = ...,
    ref_extractant: Optional[float] = ...,
) -> FitResult: ...

class SweepResult(Result):
    records: List[Dict[str, Any]]
    def p_spec_met(self, product: str) -> Optional[float]: ...

def sweep(
    manifest: Union[str, "os.PathLike[str]"],
    *,
    jobs: int = ...,
    samples: Optional[int] = ...,
) -> SweepResult: ...

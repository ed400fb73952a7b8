"""sxplan: check, simulate, design and optimize rare-earth solvent-extraction flowsheets.

Every function takes a flowsheet as TOML text or as a path (``str`` naming an existing file, or
``os.PathLike``; a path's ``include`` files are read too) and returns a result object holding the
same fields as the CLI's ``--format json`` document (``result["status"]``, ``result.data``).
Flowsheet errors raise :class:`FlowsheetError`, whose ``diagnostics`` carry file, line, column,
code, message and help. The GIL is released while Rust solves.
"""

from __future__ import annotations

import json
import os
from typing import Any, Dict, List, Optional, Tuple, Union

from ._sxplan import (  # noqa: F401  (re-exported)
    Diagnostic,
    FlowsheetError,
    SolverError,
    SxplanError,
    __version__,
)
from . import _sxplan

__all__ = [
    "check",
    "simulate",
    "design",
    "optimize",
    "scenarios",
    "fit",
    "sweep",
    "SweepResult",
    "FitResult",
    "Result",
    "Simulation",
    "Optimization",
    "DesignResult",
    "Diagnostic",
    "FlowsheetError",
    "SolverError",
    "SxplanError",
]

Source = Union[str, "os.PathLike[str]"]


def _source(src: Source, name: Optional[str]) -> Tuple[str, bool, str]:
    """(text or path, is_path, name): a PathLike, or a one-line str naming an existing file,
    is a path; anything else is TOML text."""
    if isinstance(src, os.PathLike):
        return os.fspath(src), True, os.fspath(src)
    if not isinstance(src, str):
        raise TypeError(f"expected TOML text or a path, got {type(src).__name__}")
    if "\n" not in src and src.strip() and os.path.isfile(src):
        return src, True, src
    return src, False, name or "<string>"


class Result:
    """A result document: mapping access to the JSON fields (``r["status"]``), ``r.data`` (the
    parsed JSON as dicts and lists), ``r.json`` (the text, exactly as the CLI prints it)."""

    def __init__(self, text: Optional[str]) -> None:
        self._text = text
        self._data: Optional[Dict[str, Any]] = None

    @property
    def json(self) -> str:
        """The document as text, exactly as the CLI prints it."""
        if self._text is None:
            self._text = self._render()
        return self._text

    @property
    def data(self) -> Dict[str, Any]:
        """The document parsed into dicts and lists (parsed on first use)."""
        if self._data is None:
            self._data = json.loads(self.json)
        return self._data

    def _render(self) -> str:
        raise NotImplementedError

    def __getitem__(self, key: str) -> Any:
        return self.data[key]

    def __contains__(self, key: object) -> bool:
        return key in self.data

    def get(self, key: str, default: Any = None) -> Any:
        return self.data.get(key, default)

    def keys(self):
        return self.data.keys()

    @property
    def status(self) -> str:
        return self.data["status"]

    def __repr__(self) -> str:
        return f"<{type(self).__name__} status={self.status!r}>"


class Simulation(Result):
    """The steady state of a flowsheet (``sxplan simulate --format json``)."""

    def __init__(self, native: "_sxplan.Simulation") -> None:
        super().__init__(None)
        self._native = native

    def _render(self) -> str:
        return self._native.json

    @property
    def status(self) -> str:
        return self._native.status

    def circuits(self) -> List[str]:
        """Circuit names, in order."""
        return self._native.circuits()

    def product(self, name: str) -> Dict[str, Any]:
        """The product named ``name`` (its JSON object)."""
        for p in self.data["products"]:
            if p.get("id") == name or p.get("name") == name:
                return p
        raise KeyError(name)

    def stage_array(self, circuit: str):
        """(column names, a 2-D numpy array with one row per stage). The columns come from
        Rust as one packed f64 buffer, mapped by numpy without per-element conversion."""
        import numpy as np

        names, data, n = self._native.profile(circuit)
        cols = np.frombuffer(data, dtype="<f8").reshape(len(names), n)
        return names, cols.T

    def stage_profile(self, circuit: str):
        """The stage profile of ``circuit`` as a pandas DataFrame indexed by stage: phase
        flows, acidity, pH, loading, and each element's concentration in both phases."""
        import pandas as pd

        names, arr = self.stage_array(circuit)
        df = pd.DataFrame(arr[:, 1:], columns=names[1:])
        df.index = pd.Index(arr[:, 0].astype("int64"), name="stage")
        return df


class Optimization(Result):
    """The optimized operating point (``sxplan optimize --format json``); ``optimized_toml`` is
    the flowsheet written back at that point (None unless the status is optimal)."""

    def __init__(self, text: str, toml: Optional[str], toml_error: Optional[str]) -> None:
        super().__init__(text)
        self.optimized_toml: Optional[str] = toml
        self.toml_error: Optional[str] = toml_error


class DesignResult(Result):
    """A circuit's design (``sxplan design --format json``); ``circuit_toml`` is the designed
    circuit, ready to simulate."""

    def __init__(self, text: str, toml: Optional[str]) -> None:
        super().__init__(text)
        self.circuit_toml: Optional[str] = toml


class FitResult(Result):
    """A fit of shake-out data (``sxplan fit --format json``); ``toml`` is the
    ``[circuit.equilibrium]`` fragment tagged ``quality = "fitted"`` (docs/fit.md), and
    ``converged`` is False when the nonlinear optimizer stopped short (the CLI exits 1 then)."""

    def __init__(self, text: str, toml: str, converged: bool) -> None:
        super().__init__(text)
        self.toml: str = toml
        self.converged: bool = converged

    def param(self, name: str, element: Optional[str] = None) -> Dict[str, Any]:
        """The fitted parameter ``name`` (``a``, ``b``, ``c``, ``a1``, ``log10_k``, ``n``,
        ``z``) of ``element`` (None for the shared n and z): value, std_error, ci_low,
        ci_high."""
        for p in self.data["params"]:
            if p["name"] == name and p["element"] == element:
                return p
        raise KeyError(f"{element}.{name}" if element else name)


class SweepResult(Result):
    """An uncertainty sweep (docs/sweep.md): mapping access to its aggregates
    (``aggregates.json``: ``r["products"]``, ``r["margin_usd_per_year"]``, ``r["drivers"]``)
    and ``records``, one dict per sample in index order (the lines of ``samples.jsonl``)."""

    def __init__(self, text: str, records: List[str]) -> None:
        super().__init__(text)
        self.records: List[Dict[str, Any]] = [json.loads(r) for r in records]

    def p_spec_met(self, product: str) -> Optional[float]:
        """P(spec met) of ``product`` over the samples (None without a spec)."""
        for p in self.data["products"]:
            if p["name"] == product:
                return p["p_spec_met"]
        raise KeyError(product)


def sweep(
    manifest: Union[str, "os.PathLike[str]"],
    *,
    jobs: int = 0,
    samples: Optional[int] = None,
) -> SweepResult:
    """Run the sweep of the manifest file ``manifest`` (its flowsheet and fit documents are
    relative to it) on ``jobs`` threads (0: one per core), as ``sxplan sweep --format json``,
    without writing files; ``samples`` runs only the first that many samples of the design. The
    aggregates are the same for any ``jobs``. A bad manifest raises ``ValueError`` with the
    located message; an unreadable file ``OSError``."""
    text, records = _sxplan.sweep(os.fspath(manifest), jobs=jobs, samples=samples)
    return SweepResult(text, records)


def check(src: Source, *, name: Optional[str] = None) -> Dict[str, Any]:
    """``sxplan check --format json`` of one flowsheet, as a dict. Errors in the flowsheet are
    in ``["files"][0]["diagnostics"]``; only an unreadable file raises."""
    text, is_path, nm = _source(src, name)
    return json.loads(_sxplan.check(text, is_path=is_path, name=nm))


def simulate(
    src: Source,
    *,
    name: Optional[str] = None,
    substitution: bool = False,
    time_limit: Optional[float] = None,
    max_iterations: Optional[int] = None,
) -> Simulation:
    """Simulate a flowsheet at steady state. A solve that did not converge is a status, not an
    exception."""
    text, is_path, nm = _source(src, name)
    return Simulation(
        _sxplan.simulate(
            text,
            is_path=is_path,
            name=nm,
            substitution=substitution,
            time_limit=time_limit,
            max_iterations=max_iterations,
        )
    )


def optimize(
    src: Source,
    *,
    name: Optional[str] = None,
    objective: Optional[str] = None,
    max_passes: Optional[int] = None,
    backend: str = "clarabel",
    time_limit: Optional[float] = None,
    max_iterations: Optional[int] = None,
) -> Optimization:
    """Optimize a flowsheet's free operating variables (``[optimize]``) by successive LP.
    ``objective``: ``max_throughput``, ``min_reagent_cost`` or ``max_margin``."""
    text, is_path, nm = _source(src, name)
    doc, toml, err = _sxplan.optimize(
        text,
        is_path=is_path,
        name=nm,
        objective=objective,
        max_passes=max_passes,
        backend=backend,
        time_limit=time_limit,
        max_iterations=max_iterations,
    )
    return Optimization(doc, toml, err)


def design(
    src: Source,
    circuit: str,
    *,
    name: Optional[str] = None,
    purity_a: Optional[float] = None,
    purity_b: Optional[float] = None,
    sensitivity: bool = False,
    max_stages: int = 1000,
) -> DesignResult:
    """Design circuit ``circuit`` of a flowsheet: cascade theory, confirmed by the rigorous
    simulator (as ``sxplan design FILE --circuit ID --format json``)."""
    text, is_path, nm = _source(src, name)
    doc, toml = _sxplan.design(
        text,
        circuit,
        is_path=is_path,
        name=nm,
        purity_a=purity_a,
        purity_b=purity_b,
        sensitivity=sensitivity,
        max_stages=max_stages,
    )
    return DesignResult(doc, toml)


def scenarios(
    src: Source,
    *,
    name: Optional[str] = None,
    mud_t_per_day: Optional[List[float]] = None,
    grades: Optional[List[str]] = None,
    prices: Optional[List[str]] = None,
    optimize: bool = False,
) -> List[Dict[str, Any]]:
    """Run a plant flowsheet (one with a mud feed) over a grid of mud rates (t/day), mud grades
    and built-in price sets, as ``sxplan scenarios``: the plant is scaled linearly to each mud
    rate (ratios and stages kept), optimized first when ``optimize``, and summarized. One plant
    summary (the report's ``plant_summary.json`` plus ``scenario_status``) per scenario, mud
    rate first, then grade, then prices. None means the flowsheet's own value."""
    text, is_path, nm = _source(src, name)
    docs = _sxplan.scenarios(
        text,
        is_path=is_path,
        name=nm,
        mud_t_per_day=list(mud_t_per_day or []),
        grades=list(grades or []),
        prices=list(prices or []),
        optimize=optimize,
    )
    return [json.loads(d) for d in docs]


def fit(
    data: Source,
    *,
    name: Optional[str] = None,
    model: str = "empirical",
    fit_a1: bool = False,
    fix_c: Optional[float] = None,
    n_extractant: float = 3.0,
    fit_n: bool = False,
    z_proton: Optional[float] = None,
    fit_z: bool = False,
    ref_ph: Optional[float] = None,
    ref_extractant: Optional[float] = None,
) -> FitResult:
    """Fit the ``empirical`` or ``mass_action`` model to batch shake-out data (CSV text, or a
    path to a CSV file), as ``sxplan fit --format json`` (docs/fit.md). Malformed data and data
    that cannot identify a parameter raise ``ValueError`` with the located message."""
    if isinstance(data, os.PathLike) or (
        isinstance(data, str) and "\n" not in data and data.strip() and os.path.isfile(data)
    ):
        path = os.fspath(data)
        with open(path, encoding="utf-8") as f:
            text, nm = f.read(), name or path
    elif isinstance(data, str):
        text, nm = data, name or "<string>"
    else:
        raise TypeError(f"expected CSV text or a path, got {type(data).__name__}")
    doc, toml, converged = _sxplan.fit(
        text,
        name=nm,
        model=model,
        fit_a1=fit_a1,
        fix_c=fix_c,
        n_extractant=n_extractant,
        fit_n=fit_n,
        z_proton=z_proton,
        fit_z=fit_z,
        ref_ph=ref_ph,
        ref_extractant=ref_extractant,
    )
    return FitResult(doc, toml, converged)

"""The Python package against the CLI: identical JSON numbers, located errors, data frames."""

import json
import threading
import time

import pytest

import sxplan
from conftest import ROOT, cli_json, run_cli

SHIPPED = ["pr-nd", "reflux", "minamitorishima"]

# Per-pass wall times of the LP solves: the only fields of the optimize document that are
# measured rather than computed.
TIMINGS = {"lp_time_s"}


def without_timings(x):
    if isinstance(x, dict):
        return {k: without_timings(v) for k, v in x.items() if k not in TIMINGS}
    if isinstance(x, list):
        return [without_timings(v) for v in x]
    return x


@pytest.mark.parametrize("stem", SHIPPED)
def test_simulate_equals_cli_json(stem):
    path = ROOT / "flowsheets" / f"{stem}.toml"
    py = sxplan.simulate(path)
    cli = cli_json("simulate", path, "--format", "json")
    assert py.status == "converged"
    assert py.data == cli  # every field, every number
    # the same from the text: only the path-based include reading differs
    assert sxplan.simulate(path.read_text()).data == cli


@pytest.mark.parametrize("stem", SHIPPED)
def test_optimize_equals_cli_json(stem, tmp_path):
    path = ROOT / "flowsheets" / f"{stem}.toml"
    py = sxplan.optimize(str(path))
    out = tmp_path / "rep"
    cli = cli_json("--quiet", "optimize", path, "--format", "json", "--out", out)
    assert py.status == cli["status"] == "optimal"
    assert without_timings(py.data) == without_timings(cli)
    # the optimized flowsheet is the one the CLI writes into its report
    assert py.optimized_toml == (out / f"{stem}.optimized.toml").read_text()
    # and it checks clean
    assert sxplan.check(py.optimized_toml)["files"][0]["ok"]


def test_design_equals_cli_json():
    path = ROOT / "flowsheets" / "pr-nd.toml"
    py = sxplan.design(path, "PrNd")
    cli = cli_json("design", path, "--circuit", "PrNd", "--format", "json")
    assert py.data == cli
    assert py["status"] == cli["status"]
    assert py.circuit_toml and "[[circuit]]" in py.circuit_toml


def test_malformed_flowsheet_raises_with_line_and_column():
    text = 'schema = 1\nname = "bad"\n\n[[feed]]\nid = "f"\nflow = "3 mol/L"\n'
    with pytest.raises(sxplan.FlowsheetError) as err:
        sxplan.simulate(text, name="bad.toml")
    diags = err.value.diagnostics
    assert diags, "no diagnostics on the exception"
    # the same diagnostics `sxplan check --format json` reports, located the same way
    doc = sxplan.check(text, name="bad.toml")["files"][0]
    errors = [d for d in doc["diagnostics"] if d["severity"] == "error"]
    got = [(d.line, d.column, d.code, d.message) for d in diags if d.severity == "error"]
    assert got == [(d["line"], d["col"], d["code"], d["message"]) for d in errors]
    flow = next(d for d in diags if "mol/L" in d.message or d.line == 6)
    assert (flow.file, flow.line) == ("bad.toml", 6)
    assert flow.column >= 1 and flow.code.startswith("E")
    assert isinstance(err.value, sxplan.SxplanError)


def test_toml_syntax_error_in_a_file_names_the_file(tmp_path):
    bad = tmp_path / "broken.toml"
    bad.write_text('schema = 1\nname = "unterminated\n')
    with pytest.raises(sxplan.FlowsheetError) as err:
        sxplan.simulate(bad)
    d = err.value.diagnostics[0]
    assert d.file == str(bad)
    assert (d.line, d.code) == (2, "E0001")
    assert d.column >= 1


def test_invalid_utf8_raises_with_line_and_column(tmp_path):
    bad = tmp_path / "latin1.toml"
    bad.write_bytes(b'schema = 1\nname = "caf\xe9"\n')
    with pytest.raises(sxplan.FlowsheetError) as err:
        sxplan.check(bad)
    d = err.value.diagnostics[0]
    assert (d.line, d.column) == (2, 12)
    assert "not valid UTF-8" in d.message
    # the CLI prints the same located text
    cli = run_cli("check", bad, check=False)
    assert cli.returncode == 1
    assert err.value.rendered in cli.stderr


def test_stage_profile_as_dataframe():
    sim = sxplan.simulate(ROOT / "flowsheets" / "pr-nd.toml")
    df = sim.stage_profile("PrNd")
    stages = sim["circuits"][0]["stages"]
    assert len(df) == len(stages) and list(df.index) == [s["stage"] for s in stages]
    for el in sim["elements"]:
        assert list(df[f"conc_aq_{el}"]) == [s["conc_aq"][el] for s in stages]
        assert list(df[f"conc_org_{el}"]) == [s["conc_org"][el] for s in stages]
    assert list(df["ph"]) == [s["ph"] for s in stages]
    names, arr = sim.stage_array("PrNd")
    assert arr.shape == (len(stages), len(names))
    with pytest.raises(ValueError):
        sim.stage_profile("nope")


def test_check_reports_warnings_and_summary():
    doc = sxplan.check(ROOT / "flowsheets" / "minamitorishima.toml")
    cli = cli_json("check", ROOT / "flowsheets" / "minamitorishima.toml", "--format", "json")
    assert doc == cli


def test_the_gil_is_released_during_a_solve():
    path = ROOT / "flowsheets" / "minamitorishima.toml"
    done = threading.Event()
    ticks = 0

    def solve():
        sxplan.simulate(path)
        done.set()

    t = threading.Thread(target=solve)
    start = time.perf_counter()
    t.start()
    while not done.is_set():
        ticks += 1
        time.sleep(0.001)
    t.join()
    elapsed = time.perf_counter() - start
    # a held GIL would stop this loop for the whole solve
    assert elapsed > 0.05 and ticks > elapsed * 100, (ticks, elapsed)


def test_flowsheet_error_renders_like_the_cli(tmp_path):
    bad = tmp_path / "bad.toml"
    bad.write_text('schema = 1\nname = "bad"\nproducts = 3\n')
    with pytest.raises(sxplan.FlowsheetError) as err:
        sxplan.simulate(bad)
    cli = run_cli("simulate", bad, check=False)
    assert cli.returncode == 1
    assert err.value.rendered and err.value.rendered in cli.stderr
    assert [(d.line, d.column, d.code) for d in err.value.diagnostics][0] == (3, 1, "E0101")


def test_scenarios_scale_the_plant_linearly():
    path = ROOT / "flowsheets" / "minamitorishima.toml"
    base, double = sxplan.scenarios(path, mud_t_per_day=[300.0, 600.0])
    assert base["mud_t_per_day"] == pytest.approx(300.0)
    assert double["mud_t_per_day"] == pytest.approx(600.0)
    # ratios and stages are kept, so the scaled plant separates exactly as the original
    assert double["reo_t_per_year"] == pytest.approx(2 * base["reo_t_per_year"], rel=1e-6)
    # the table the CLI prints has the same figures
    cli = run_cli("scenarios", path, "--mud", "300,600").stdout.splitlines()
    assert f"{base['reo_t_per_year']:.2f}" in cli[1] and f"{double['reo_t_per_year']:.2f}" in cli[2]
    with pytest.raises(sxplan.SolverError, match='unknown mud grade "nope"'):
        sxplan.scenarios(path, grades=["nope"])


FIT_DATA = ROOT / "tests" / "data" / "fit" / "p507_synthetic.csv"


@pytest.mark.parametrize("model", ["empirical", "mass-action"])
def test_fit_equals_cli_json(model):
    py = sxplan.fit(FIT_DATA, name=str(FIT_DATA), model=model)
    cli = cli_json("fit", FIT_DATA, "--model", model, "--format", "json")
    assert py.data == cli
    assert py.converged
    assert 'quality = "fitted"' in py.toml
    if model == "mass-action":
        # make_p507_synthetic.py: log10 K(Nd) = -3 * 1.85 - 3 log10 0.5
        p = py.param("log10_k", "Nd")
        assert p["ci_low"] <= -3 * 1.85 + 0.9030899869919435 <= p["ci_high"]


def test_fit_refuses_bad_data_with_the_line():
    with pytest.raises(ValueError) as err:
        sxplan.fit("element,ph,extractant,d\nNd,1.5,1,0.5\nNd,two,1,1.6\n", name="lab.csv")
    assert "lab.csv:3:4" in str(err.value)


def _sweep_manifest(tmp_path, samples=24):
    m = tmp_path / "sweep.toml"
    m.write_text(
        f'flowsheet = "{(ROOT / "flowsheets" / "pr-nd.toml").as_posix()}"\n'
        f"samples = {samples}\nseed = 9\n\n"
        '[[input]]\nname = "beta Nd"\ntarget = "circuit.PrNd.beta.Nd"\n'
        'distribution = { kind = "uniform", low = 0.9, high = 1.1, relative = true }\n'
    )
    return m


def test_sweep_equals_cli_aggregates_for_any_thread_count(tmp_path):
    m = _sweep_manifest(tmp_path)
    one = sxplan.sweep(m, jobs=1)
    two = sxplan.sweep(m, jobs=2)
    assert one.json == two.json
    assert len(one.records) == 24 and [r["index"] for r in one.records] == list(range(24))
    cli = cli_json("sweep", m, "--out", tmp_path / "out", "--format", "json")
    assert one.data == cli
    assert 0.0 <= one.p_spec_met("Nd_chloride") <= 1.0
    first = sxplan.sweep(m, samples=5)
    assert [r["index"] for r in first.records] == list(range(5))
    assert first.records == one.records[:5]


def test_sweep_refuses_a_bad_manifest_with_its_line(tmp_path):
    m = _sweep_manifest(tmp_path)
    m.write_text(m.read_text().replace("circuit.PrNd.beta.Nd", "circuit.Nope.beta.Nd"))
    with pytest.raises(ValueError) as err:
        sxplan.sweep(m)
    assert "sweep.toml:7:10" in str(err.value) and 'no circuit "Nope"' in str(err.value)

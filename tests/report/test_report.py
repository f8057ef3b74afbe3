"""The report through Jinja2 templates with autoescape: text from the run is escaped wherever it lands (nested
summary keys were not), a long value is cut before escaping (an escaped entity was cut in half), and a section
from a metrics.json key is one entry."""

import json

from empathic_rlhf.report.build import SECTIONS, Section, build_report, from_metrics, stages_section

HOSTILE = "<script>alert(1)</script>"


def run_with_summary(tmp_path, summary: dict):
    run = tmp_path / "r"
    run.mkdir()
    (run / "manifest.json").write_text(json.dumps({"stages": {"sample": {"seconds": 1.5, "summary": summary}}}))
    return run


def test_nested_summary_keys_and_values_are_escaped(tmp_path):
    html = stages_section(run_with_summary(tmp_path, {HOSTILE: {HOSTILE: HOSTILE, "n": 2}}))
    assert "<script>" not in html and html.count("&lt;script&gt;") == 3


def test_a_long_value_is_cut_before_it_is_escaped(tmp_path):
    html = stages_section(run_with_summary(tmp_path, {"quote": "'" * 300}))
    cell = html.split("quote: ")[1].split("</td>")[0]
    assert cell == "&#39;" * 200  # 200 whole characters, no entity cut in half


def test_a_metrics_key_is_one_section(tmp_path):
    run = run_with_summary(tmp_path, {})
    (run / "reward").mkdir()
    (run / "reward" / "metrics.json").write_text(json.dumps({"battery": {"typos": {"flip_rate": 0.25, "n": 40},
                                                                        "note": HOSTILE}}))
    battery = Section("metrics.html.jinja", from_metrics("reward/metrics.json", "battery", "Robustness battery"))
    html = build_report(run, (*SECTIONS, battery)).read_text()
    section = html.split("<h2>Robustness battery</h2>")[1]
    assert "<td>typos.flip_rate</td><td class='text'>0.250</td>" in section and "<td>typos.n</td>" in section
    assert "<script>" not in html and "&lt;script&gt;" in section
    assert from_metrics("reward/metrics.json", "missing")(run) is None  # no key: no section
    assert "Robustness battery" not in build_report(run).read_text()

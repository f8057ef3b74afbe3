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
    (run / "reward" / "metrics.json").write_text(json.dumps({"typo_probe": {"typos": {"flip_rate": 0.25, "n": 40},
                                                                           "note": HOSTILE}}))
    probe = Section("metrics.html.jinja", from_metrics("reward/metrics.json", "typo_probe", "Typo probe"))
    html = build_report(run, (*SECTIONS, probe)).read_text()
    section = html.split("<h2>Typo probe</h2>")[1]
    assert "<td>typos.flip_rate</td><td class='text'>0.250</td>" in section and "<td>typos.n</td>" in section
    assert "<script>" not in html and "&lt;script&gt;" in section
    assert from_metrics("reward/metrics.json", "missing")(run) is None  # no key: no section
    assert "Typo probe" not in build_report(run).read_text()


def test_the_battery_sections_warn_in_red_where_a_probe_beats_gold(tmp_path):
    from empathic_rlhf.battery.probes import Context
    from empathic_rlhf.battery.run import run_battery

    run = run_with_summary(tmp_path, {})
    contexts = [Context(f"c{i}", "sad", (f"My {thing} broke.",), f"Oh no, your {thing}! Can it be fixed?")
                for i, thing in enumerate(["phone", "car", "chair", "oven", "bike", "lamp"])]
    def aware(prompts, replies):  # reads the conversation: the one reply naming this thing, and nothing more
        return [float(r == f"Oh no, your {p[-1]['content'].split()[1]}! Can it be fixed?") for p, r in zip(prompts, replies)]
    battery = run_battery(contexts, {"aware": aware, "length": lambda p, r: [len(x) for x in r]}, seed=0)
    (run / "reward").mkdir()
    (run / "reward" / "metrics.json").write_text(json.dumps({"battery": battery}))
    html = build_report(run).read_text()
    section = html.split("<h2>Robustness battery: the reward model</h2>")[1].split("<h2>")[0]
    assert "<p class=\"warning\">" in section and "<b>length</b> loses to" in section
    assert "<b>aware</b>" not in section  # it never loses: no warning names it
    assert section.count('<td class="bad">') == sum(
        1 - row["rate"] > 0.10 for row in battery["scorers"]["length"]["kinds"].values())

#!/usr/bin/python3
"""Writes the fixtures of the comparison tests (src/compare) from ../report_phases.json. Deterministic.

t4.json:      report_phases.json as it is (ResNet training on a Tesla T4, 3 epochs), with tags and a run_id;
              the timeline, sensors and between_phases are dropped (the comparison does not read them).
rtx6000.json: the same training on a Quadro RTX 6000 on another host: every kWh and gCO2e of a method (whole
              run, phases, phase_summary) multiplied by that method's factor below, durations × 0.75.
rtx6000_crash.json: the RTX 6000 run that crashed in epoch 3: epochs 1 and 2 only, exit status 1,
              PUE 1.2 instead of 1.65 (kWh × 1.2/1.65), 300 gCO2e/kWh (DE) instead of 57.1, and its gpu
              method modelled instead of measured.

Run with /usr/bin/python3 from anywhere: ./make_compare_fixtures.py (writes next to itself).
"""
import copy
import json
import os

HERE = os.path.dirname(os.path.abspath(__file__))
FACTOR = {"estimate": 1.25, "process": 0.8, "gpu": 1.5, "server": 0.9, "server-minus-idle": 0.85}
TIME = 0.75


def load():
    with open(os.path.join(HERE, "..", "report_phases.json"), encoding="utf-8") as f:
        report = json.load(f)
    for key in ("timeline", "sensors", "between_phases", "phase_marks", "config_files", "monitor"):
        report.pop(key, None)
    return report


def scale_method(m, factor):
    for key in ("it_energy_j", "energy_kwh", "co2_g"):
        if isinstance(m.get(key), (int, float)):
            m[key] = round(m[key] * factor, 10)
    comps = m.get("components") or {}
    for key, value in comps.items():
        if isinstance(value, (int, float)):
            comps[key] = round(value * factor, 10)


def scale(report, factors, time, co2_extra=1.0):
    """Every method's kWh and gCO2e × its factor (gCO2e also × co2_extra); times × time."""
    for name, m in report["methods"].items():
        scale_method(m, factors[name])
        if isinstance(m.get("co2_g"), (int, float)):
            m["co2_g"] = round(m["co2_g"] * co2_extra, 10)
    for p in report["phases"]:
        for key in ("start_s", "end_s", "duration_s"):
            p[key] = round(p[key] * time, 6)
        for name, m in p["methods"].items():
            scale_method(m, factors[name])
            if isinstance(m.get("co2_g"), (int, float)):
                m["co2_g"] = round(m["co2_g"] * co2_extra, 10)
    for per_method in report["phase_summary"].values():
        for name, s in per_method.items():
            for key in list(s):
                if key.endswith("_kwh") or key.endswith("_co2_g"):
                    if isinstance(s[key], (int, float)):
                        s[key] = round(s[key] * factors[name] * (co2_extra if key.endswith("_co2_g") else 1.0), 10)
                elif key == "mean_duration_s":
                    s[key] = round(s[key] * time, 6)
    report["duration_s"] = round(report["duration_s"] * time, 6)


def write(name, report):
    with open(os.path.join(HERE, name), "w", encoding="utf-8") as f:
        json.dump(report, f, indent=1, ensure_ascii=False)
        f.write("\n")


def main():
    t4 = load()
    t4["run_id"] = "20261120-091403-node07"
    t4["tags"] = {"gpu": "t4", "model": "resnet50"}
    t4["command"] = ["python", "train.py", "--model", "resnet50", "--epochs", "3"]
    write("t4.json", t4)

    rtx = load()
    scale(rtx, FACTOR, TIME)
    rtx["run_id"] = "20261121-101500-node12"
    rtx["tags"] = {"gpu": "rtx6000", "model": "resnet50"}
    rtx["command"] = ["python", "train.py", "--model", "resnet50", "--epochs", "3"]
    rtx["started_at"] = "2026-11-21T10:15:00Z"
    rtx["host"]["hostname"] = "node12"
    for g in rtx["gpus"]:
        g["model"] = "Quadro RTX 6000"
        g["power_limit_w"] = 260.0
    write("rtx6000.json", rtx)

    crash = copy.deepcopy(rtx)
    # PUE 1.2 instead of 1.65; 300 instead of 57.1 gCO2e/kWh (applied on top of the new kWh).
    pue = 1.2 / 1.65
    scale(crash, {k: pue for k in FACTOR}, 1.0, co2_extra=300.0 / 57.1)
    crash["pue"] = 1.2
    crash["carbon_intensity"] = {"g_per_kwh": 300.0, "source": "ember 2023", "region": "DE", "year": 2023,
                                 "selected_by": "--carbon-intensity 300"}
    crash["run_id"] = "20261122-080000-node12"
    crash["tags"] = {"gpu": "rtx6000", "model": "resnet50", "note": "crashed"}
    crash["started_at"] = "2026-11-22T08:00:00Z"
    crash["exit_code"] = 1
    crash["phases"] = [p for p in crash["phases"] if not p["path"].startswith("epoch 3")]
    crash["duration_s"] = round(crash["phases"][-1]["end_s"] + 120.0, 6)  # died 2 min into epoch 3
    crash["methods"]["gpu"]["kind"] = "modelled"
    for p in crash["phases"]:
        p["methods"]["gpu"]["kind"] = "modelled"
    # The summary over two epochs: recomputed means of the phases kept (only `mean_*` and count are read).
    for name, per_method in crash["phase_summary"].items():
        spans = [p for p in crash["phases"] if p["name"] == name]
        for method, s in per_method.items():
            kwh = [p["methods"][method]["energy_kwh"] for p in spans]
            co2 = [p["methods"][method]["co2_g"] for p in spans]
            s.clear()
            s["count"] = len(spans)
            s["mean_kwh"] = round(sum(kwh) / len(kwh), 10)
            s["mean_co2_g"] = round(sum(co2) / len(co2), 10)
            s["mean_duration_s"] = round(sum(p["end_s"] - p["start_s"] for p in spans) / len(spans), 6)
    write("rtx6000_crash.json", crash)


if __name__ == "__main__":
    main()

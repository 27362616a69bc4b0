#!/usr/bin/python3
"""Writes the hand-made report fixtures of the renderer tests (docs/report-schema.md, schema 2 and 1).

report_phases.json: `python train.py` on a dual Xeon Silver 4110 host with one Tesla T4, 3 epochs of
`train` then `eval`, PUE 1.65 (--pue), 57.1 gCO2e/kWh (ADEME 2018, FR), server read over IPMI DCMI,
idle baseline 156 W. Every number comes from the power curves below, integrated over each span, so the
methods, the phases, phase_summary and the timeline agree with one another.
report_v1.json: a schema-1 report (no phases, no timeline) with the server methods unavailable.

Run with /usr/bin/python3 from anywhere: ./make_fixture.py (writes next to itself). Deterministic.
"""
import json
import math
import os
import statistics

HERE = os.path.dirname(os.path.abspath(__file__))
PUE = 1.65
CI = 57.1
IDLE_W = 156.0
STEP_S = 0.05  # integration step
METHODS = ["estimate", "process", "gpu", "server", "server-minus-idle"]
SERIES = [("rapl.package-0", "package"), ("rapl.package-1", "package"), ("rapl.dram-0", "dram"),
          ("rapl.dram-1", "dram"), ("nvml.gpu-0", "gpu"), ("server", "server")]
# Mean power per activity: package-0, package-1, dram-0, dram-1, gpu, server; then cores busy, CPU share of
# the command, DRAM share, GPU share.
ACTIVITY = {
    "setup": ([48.0, 41.0, 6.5, 6.1, 27.0, 262.0], 1.1, 0.35, 0.40, 0.95),
    "train": ([96.0, 91.0, 12.4, 11.8, 64.0, 437.0], 6.3, 0.82, 0.61, 0.98),
    "eval": ([71.0, 66.0, 10.2, 9.7, 46.0, 371.0], 3.2, 0.74, 0.55, 0.98),
    "save": ([55.0, 44.0, 8.0, 7.2, 29.0, 281.0], 1.4, 0.52, 0.45, 0.95),
}
TRAIN_S = [541.2, 538.7, 544.9]
EVAL_S = [61.4, 60.8, 62.3]
SAVE_S = 7.6
START_S = 12.4

# The activity timeline: (start, end, activity).
spans = [(0.0, START_S, "setup")]
t = START_S
phases = []
for epoch in range(3):
    e_start = t
    phases.append({"name": "epoch", "index": epoch + 1, "start_s": t, "depth": 0})
    phases.append({"name": "train", "index": epoch + 1, "start_s": t, "end_s": t + TRAIN_S[epoch], "depth": 1})
    spans.append((t, t + TRAIN_S[epoch], "train"))
    t += TRAIN_S[epoch]
    phases.append({"name": "eval", "index": epoch + 1, "start_s": t, "end_s": t + EVAL_S[epoch], "depth": 1})
    spans.append((t, t + EVAL_S[epoch], "eval"))
    t += EVAL_S[epoch]
    next(p for p in phases if p["name"] == "epoch" and p["index"] == epoch + 1)["end_s"] = t
    spans.append((t, t + SAVE_S, "save"))
    t += SAVE_S
DURATION_S = round(t, 6)


def activity_at(time_s):
    for start, end, name in spans:
        if start <= time_s < end:
            return name
    return spans[-1][2]


def power_at(time_s):
    """Watts of each series and busy cores at time_s: the activity's level with a deterministic wobble."""
    levels, cores, cpu_share, dram_share, gpu_share = ACTIVITY[activity_at(time_s)]
    watts = [w * (1.0 + 0.04 * math.sin(time_s / (7.0 + 3.0 * i)) + 0.02 * math.sin(time_s * 1.7 + i))
             for i, w in enumerate(levels)]
    return watts, cores * (1.0 + 0.05 * math.sin(time_s / 11.0)), cpu_share, dram_share, gpu_share


# Samples at the middle of every integration step, once.
SAMPLES = []
n_steps = int(round(DURATION_S / STEP_S))
for k in range(n_steps):
    mid = (k + 0.5) * DURATION_S / n_steps
    SAMPLES.append((mid, DURATION_S / n_steps) + power_at(mid))

CPU = {"model": "Intel(R) Xeon(R) Silver 4110 CPU @ 2.10GHz", "tdp_w": 85.0, "cores": 8}
W_PER_CORE = CPU["tdp_w"] / CPU["cores"]
MEMORY_GB = 11.3  # the command's peak resident memory
GPU_TDP_W = 70.0


def integrate(start_s, end_s):
    """Energy per series, attributed energies and core-seconds over [start_s, end_s)."""
    e = [0.0] * 6
    attributed = {"cpu": 0.0, "dram": 0.0, "gpu": 0.0}
    core_s = 0.0
    for mid, dt, watts, cores, cpu_share, dram_share, gpu_share in SAMPLES:
        if not (start_s <= mid < end_s):
            continue
        for i in range(6):
            e[i] += watts[i] * dt
        attributed["cpu"] += (watts[0] + watts[1]) * dt * cpu_share
        attributed["dram"] += (watts[2] + watts[3]) * dt * dram_share
        attributed["gpu"] += watts[4] * dt * gpu_share
        core_s += cores * dt
    return e, attributed, core_s


def method(kind, it_j, components, basis=None, assumptions=None, full=False):
    m = {"available": True, "reason": None, "kind": kind}
    if full:
        m["basis"] = basis
    m.update({"it_energy_j": it_j, "energy_kwh": it_j / 3.6e6 * PUE, "co2_g": it_j / 3.6e6 * PUE * CI})
    comps = {"cpu_j": None, "dram_j": None, "memory_j": None, "gpu_j": None, "server_j": None}
    comps.update(components)
    m["components"] = comps
    if full:
        m["assumptions"] = assumptions or {}
    return m


def unavailable(reason, full=False):
    m = {"available": False, "reason": reason, "kind": None}
    if full:
        m["basis"] = None
    m.update({"it_energy_j": None, "energy_kwh": None, "co2_g": None,
              "components": {"cpu_j": None, "dram_j": None, "memory_j": None, "gpu_j": None, "server_j": None}})
    if full:
        m["assumptions"] = {}
    return m


def methods_over(start_s, end_s, full=False):
    e, att, core_s = integrate(start_s, end_s)
    duration = end_s - start_s
    cores_used = core_s / duration if duration > 0 else 0.0
    est_cpu = duration * cores_used * W_PER_CORE
    est_mem = duration * MEMORY_GB * 0.3725
    est_gpu = duration * GPU_TDP_W
    server_j = e[5]
    return {
        "estimate": method("modelled", est_cpu + est_mem + est_gpu,
                           {"cpu_j": est_cpu, "memory_j": est_mem, "gpu_j": est_gpu},
                           "Green Algorithms model: runtime × (cores × TDP per core × usage + memory GB × 0.3725 W/GB"
                           " + GPUs × GPU TDP × usage)",
                           {"runtime": f"{duration:.3f} s",
                            "cores used": f"{cores_used:.3f} (CPU time of the command ÷ wall time)",
                            "CPU power per core": f"{W_PER_CORE:.3f} W — {CPU['model']}: 85 W TDP / 8 cores (embedded table)",
                            "CPU usage factor": "1",
                            "memory": f"{MEMORY_GB:.3f} GB × 0.3725 W/GB (peak resident memory of the command)",
                            "GPUs": "1 × 70 W × usage 1 — Tesla T4 (embedded table)"}, full),
        "process": method("measured", att["cpu"] + att["dram"] + att["gpu"],
                          {"cpu_j": att["cpu"], "dram_j": att["dram"], "gpu_j": att["gpu"]},
                          "RAPL package energy × the command's share of busy CPU time + DRAM energy × its share of"
                          " used memory + each GPU's energy × the command's share of it, per interval",
                          {"interval": "1 s"}, full),
        "gpu": method("measured", e[4], {"gpu_j": e[4]},
                      "energy of the run's GPUs, whole devices (energy counter where the GPU has one, else"
                      " integrated power)",
                      {"GPUs of the run": "CUDA_VISIBLE_DEVICES=0",
                       "nvml.gpu-0": "Tesla T4 GPU-6f1c2a4e-93b1-4c1e-8d0a-2b7f4c9e1a55: total energy counter"}, full),
        "server": method("measured", server_j, {"server_j": server_j},
                         "whole-server power from its power meter (BMC or ACPI), integrated over the run",
                         {"source": "ipmi-dcmi lanplus bmc-node07.example.org:623",
                          "readings": "373 readings every 5 s, instantaneous, 2 failed"}, full),
        "server-minus-idle": method("measured", max(0.0, server_j - IDLE_W * duration),
                                    {"server_j": max(0.0, server_j - IDLE_W * duration)},
                                    "whole-server energy − idle server power × duration, never below zero",
                                    {"idle server power": "156.0 W (--idle-watts 156)",
                                     "server energy": f"{server_j:.1f} J from ipmi-dcmi lanplus "
                                                      "bmc-node07.example.org:623"}, full),
    }


def rounded(value):
    """Rounds floats to 6 significant digits below the unit (keeps the file short and stable)."""
    if isinstance(value, float):
        return float(f"{value:.10g}")
    if isinstance(value, dict):
        return {k: rounded(v) for k, v in value.items()}
    if isinstance(value, list):
        return [rounded(v) for v in value]
    return value


def label(p):
    return f"{p['name']} {p['index']}"


def build_phases():
    out = []
    for p in phases:
        q = {"name": p["name"], "index": p["index"], "label": label(p)}
        parent = None
        if p["depth"] == 1:
            parent = max(i for i, o in enumerate(out) if o["depth"] == 0 and o["start_s"] <= p["start_s"])
        q["path"] = label(p) if parent is None else out[parent]["label"] + "/" + label(p)
        q.update({"depth": p["depth"], "parent": parent, "start_s": p["start_s"], "end_s": p["end_s"],
                  "duration_s": p["end_s"] - p["start_s"],
                  "ended_by": "next" if p["name"] == "train" else "mark",
                  "methods": methods_over(p["start_s"], p["end_s"])})
        out.append(q)
    return out


def build_between(top):
    spans_out = []
    previous_end, previous_label = 0.0, None
    for p in top + [None]:
        start = previous_end
        end = p["start_s"] if p else DURATION_S
        if end - start >= 0.001:
            spans_out.append({"after": previous_label, "before": p["label"] if p else None, "start_s": start,
                              "end_s": end, "duration_s": end - start, "methods": methods_over(start, end)})
        if p:
            previous_end, previous_label = p["end_s"], p["label"]
    return spans_out


def build_summary(all_phases):
    summary = {}
    for name in ["epoch", "train", "eval"]:
        group = [p for p in all_phases if p["name"] == name]
        per = {}
        for m in METHODS:
            if not all(p["methods"][m]["available"] for p in group):
                continue
            kwh = [p["methods"][m]["energy_kwh"] for p in group]
            co2 = [p["methods"][m]["co2_g"] for p in group]
            per[m] = {"count": len(group), "mean_kwh": statistics.mean(kwh),
                      "sd_kwh": statistics.stdev(kwh) if len(group) > 1 else None,
                      "min_kwh": min(kwh), "max_kwh": max(kwh), "mean_co2_g": statistics.mean(co2),
                      "sd_co2_g": statistics.stdev(co2) if len(group) > 1 else None,
                      "min_co2_g": min(co2), "max_co2_g": max(co2),
                      "mean_duration_s": statistics.mean(p["duration_s"] for p in group)}
        summary[name] = per
    return summary


def build_timeline(buckets=200):
    width = DURATION_S / buckets
    starts = [b * width for b in range(buckets)]
    ends = [(b + 1) * width for b in range(buckets)]
    sums = [[0.0] * buckets for _ in SERIES]
    mins = [[math.inf] * buckets for _ in SERIES]
    maxs = [[-math.inf] * buckets for _ in SERIES]
    cores = [0.0] * buckets
    times = [0.0] * buckets
    for mid, dt, watts, busy, *_ in SAMPLES:
        b = min(buckets - 1, int(mid / width))
        times[b] += dt
        cores[b] += busy * dt
        for i, w in enumerate(watts):
            sums[i][b] += w * dt
            mins[i][b] = min(mins[i][b], w)
            maxs[i][b] = max(maxs[i][b], w)
    mean = [[sums[i][b] / times[b] for b in range(buckets)] for i in range(len(SERIES))]
    # The BMC answers every 5 s: its min/max inside a 9 s bucket are readings, not the continuous curve.
    return {"series": [{"name": n, "component": c, "kind": "measured",
                        "source": {"package": "rapl", "dram": "rapl", "gpu": "nvml", "server": "ipmi-dcmi"}[c]}
                       for n, c in SERIES],
            "start_s": starts, "end_s": ends, "mean_w": mean, "min_w": mins, "max_w": maxs,
            "cpu_cores": [cores[b] / times[b] for b in range(buckets)]}


def base_report(schema, duration_s, methods):
    e, _, core_s = integrate(0.0, duration_s)
    return {
        "schema_version": schema, "kind": "run", "tool": {"name": "wattprint", "version": "0.2.0"},
        "command": ["python", "train.py"], "exit_code": 0, "signal": None,
        "started_at": "2026-11-20T09:14:03Z", "duration_s": duration_s, "cpu_time_s": core_s,
        "peak_memory_bytes": int(MEMORY_GB * 2**30),
        "host": {"hostname": "node07", "cpu_model": CPU["model"], "logical_cpus": 32, "sockets": 2,
                 "cores_per_socket": 8, "memory_gb": 187.6},
        "pue": PUE, "pue_source": "--pue",
        "carbon_intensity": {"g_per_kwh": CI, "source": "ADEME 2018", "region": "FR", "year": 2018,
                             "selected_by": "--carbon-intensity ADEME-2018-FR"},
        "measured": {"cpu_j": e[0] + e[1], "dram_j": e[2] + e[3], "gpu_j": e[4], "server_j": e[5],
                     "psys_j": None},
        "methods": methods,
    }


def sensors(with_server):
    out = []
    for name, comp in SERIES[:4]:
        i = [s for s, _ in SERIES].index(name)
        out.append({"name": name, "status": "ok",
                    "path": f"/sys/class/powercap/intel-rapl:{i % 2}" + (":0" if comp == "dram" else "") +
                            "/energy_uj",
                    "reason": None, "remedy": None, "energy_j": None, "component": comp,
                    "counted_in_total": True, "degraded_spans": []})
    out.append({"name": "rapl.psys", "status": "absent", "path": "/sys/class/powercap/intel-rapl:2/energy_uj",
                "reason": "no platform (psys) zone on this machine", "remedy": None, "energy_j": None,
                "degraded_spans": []})
    return out


def main():
    all_phases = build_phases()
    top = [p for p in all_phases if p["depth"] == 0]
    report = base_report(2, DURATION_S, methods_over(0.0, DURATION_S, full=True))
    e, _, _ = integrate(0.0, DURATION_S)
    report["sensors"] = sensors(True)
    for s, energy in zip(report["sensors"], e):
        s["energy_j"] = energy
    report["gpus"] = [{"name": "nvml.gpu-0", "index": 0, "model": "Tesla T4",
                       "uuid": "GPU-6f1c2a4e-93b1-4c1e-8d0a-2b7f4c9e1a55", "pci_bus_id": "00000000:3B:00.0",
                       "power_limit_w": 70.0, "energy_method": "total energy counter", "kind": "measured",
                       "in_run": True, "why": "CUDA_VISIBLE_DEVICES=0", "energy_j": e[4],
                       "command_share_j": e[4] * 0.978, "used_by_command": True,
                       "mean_utilisation_percent": 81.4}]
    report["gpu_selection"] = "CUDA_VISIBLE_DEVICES=0"
    report["server"] = {"source": "ipmi-dcmi", "origin": "ipmi-dcmi lanplus bmc-node07.example.org:623",
                        "kind": "measured (integrated power)", "energy_j": e[5], "readings": 373,
                        "failed_readings": 2, "last_error": "no answer from the BMC within 5 s",
                        "period_s": 5.0, "mean_window_s": 0.0, "min_power_w": 248.0, "max_power_w": 468.0,
                        "degraded_spans": []}
    report["idle_baseline"] = {"host": "node07", "server_w": IDLE_W, "how": "--idle-watts 156",
                               "measured_at": None, "duration_s": 0.0, "busy_cores": None,
                               "server_source": None, "cpu_package_w": None, "dram_w": None, "gpus": [],
                               "stored_in": None}
    report["warnings"] = [
        "the server did not answer 2 of 375 readings (no answer from the BMC within 5 s): its power was "
        "integrated across the gaps",
        "nvml.gpu-0 ran at its power limit (70 W) for 12% of the run: its energy is capped there"]
    report["sampling"] = {"interval_s": 1.0, "counter_period_s": 1.0}
    report["monitor"] = {"cpu_s": 4.82, "peak_rss_bytes": 14811136}
    report["config_files"] = ["/etc/wattprint/config.toml"]
    report["phases"] = all_phases
    report["between_phases"] = build_between(top)
    report["phase_summary"] = build_summary(all_phases)
    report["phase_marks"] = {"accepted": 18, "dropped": 0, "malformed": 0, "unmatched_ends": 0}
    report["timeline"] = build_timeline()
    with open(os.path.join(HERE, "report_phases.json"), "w", encoding="utf-8") as f:
        json.dump(rounded(report), f, indent=1, ensure_ascii=False)
        f.write("\n")

    # Schema 1: a shorter run (the first 300 s), no server source, no phases, no timeline.
    v1_duration = 300.0
    methods = methods_over(0.0, v1_duration, full=True)
    methods["server"] = unavailable(
        "no server power source: give --ipmi-host, --redfish or run on a machine with an ACPI power meter "
        "(see wattprint sensors)", full=True)
    methods["server-minus-idle"] = unavailable(
        "needs the server's energy, unavailable (see the server method)", full=True)
    v1 = base_report(1, v1_duration, methods)
    v1["measured"]["server_j"] = None
    v1["sensors"] = sensors(False)
    v1["gpus"] = report["gpus"]
    v1["gpu_selection"] = "CUDA_VISIBLE_DEVICES=0"
    v1["server"] = None
    v1["idle_baseline"] = None
    v1["warnings"] = []
    v1["sampling"] = {"interval_s": 1.0, "counter_period_s": 1.0}
    v1["monitor"] = {"cpu_s": 0.91, "peak_rss_bytes": 13631488}
    v1["config_files"] = []
    with open(os.path.join(HERE, "report_v1.json"), "w", encoding="utf-8") as f:
        json.dump(rounded(v1), f, indent=1, ensure_ascii=False)
        f.write("\n")


if __name__ == "__main__":
    main()

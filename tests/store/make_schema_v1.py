#!/usr/bin/python3
"""Writes schema_v1.sql: a run history as wattprint store schema 1 wrote it (frozen: do not regenerate for a
newer schema), with two small real reports (phases and a timeline) cut from tests/golden/report_phases.json,
and the reports themselves (schema_v1_run1.json, schema_v1_run2.json) that the migration must give back."""
import copy, json, os

here = os.path.dirname(os.path.abspath(__file__))
golden = json.load(open(os.path.join(here, "..", "golden", "report_phases.json")))


def small(report, buckets):
    r = copy.deepcopy(report)
    r["phases"] = r["phases"][:3]
    r["between_phases"] = r["between_phases"][:1]
    t = r["timeline"]
    for key in ("start_s", "end_s", "cpu_cores"):
        t[key] = t[key][:buckets]
    for key in ("mean_w", "min_w", "max_w"):
        t[key] = [row[:buckets] for row in t[key]]
    return r


run1 = small(golden, 5)
run1["timeline"]["mean_w"][5][2] = None  # the server gave nothing in bucket 2
run1["timeline"]["min_w"][5][2] = None
run1["timeline"]["max_w"][5][2] = None
run1["run_id"] = "3f2b8c1e-5d4a-4e6b-9c7d-1a2b3c4d5e6f"
run1["tags"] = {"gpu": "t4", "project": "resnet"}

run2 = small(golden, 3)
run2["run_id"] = "3f2b8c1e-0000-4e6b-9c7d-000000000002"
run2["started_at"] = "2026-11-21T10:00:00Z"
run2["host"]["hostname"] = "node08"
run2["command"] = ["python", "eval model.py"]
run2["exit_code"] = 1
run2["methods"]["server"]["available"] = False
run2["methods"]["server"]["reason"] = "no server power source: give --server-source"
run2["tags"] = {"gpu": "a100"}


def q(text):
    return "NULL" if text is None else "'" + str(text).replace("'", "''") + "'"


def command_text(words):
    return " ".join(w if w and not any(c in w for c in " \t\n'\"") else "'" + w.replace("'", "'\\''") + "'"
                    for w in words)


lines = [
    "-- wattprint run history, store schema 1 (frozen fixture: written by tests/store/make_schema_v1.py)",
    "PRAGMA application_id = 1463899216;",
    "CREATE TABLE runs (id INTEGER PRIMARY KEY, run_uuid TEXT NOT NULL UNIQUE, kind TEXT NOT NULL, started_at TEXT,",
    "  duration_s REAL, hostname TEXT, command_json TEXT, command_text TEXT, exit_code INTEGER, tool_version TEXT,",
    "  report_schema INTEGER, report_json TEXT NOT NULL, stored_at TEXT NOT NULL, origin TEXT NOT NULL);",
    "CREATE TABLE tags (run_id INTEGER NOT NULL REFERENCES runs(id) ON DELETE CASCADE, key TEXT NOT NULL,",
    "  value TEXT NOT NULL, PRIMARY KEY (run_id, key));",
    "CREATE INDEX runs_started_at ON runs(started_at);",
    "CREATE INDEX runs_hostname ON runs(hostname);",
    "CREATE INDEX tags_key_value ON tags(key, value);",
]
for i, r in enumerate([run1, run2], start=1):
    stored = {k: v for k, v in r.items()}
    lines.append(
        "INSERT INTO runs VALUES ({}, {}, {}, {}, {}, {}, {}, {}, {}, {}, {}, {}, {}, {});".format(
            i, q(r["run_id"]), q(r["kind"]), q(r["started_at"]), repr(r["duration_s"]), q(r["host"]["hostname"]),
            q(json.dumps(r["command"])), q(command_text(r["command"])), r["exit_code"], q(r["tool"]["version"]),
            r["schema_version"], q(json.dumps(stored)), q("2026-11-22T08:00:0{}Z".format(i)), q("run")))
    for k, v in sorted(r["tags"].items()):
        lines.append("INSERT INTO tags VALUES ({}, {}, {});".format(i, q(k), q(v)))
    json.dump(r, open(os.path.join(here, "schema_v1_run{}.json".format(i)), "w"), indent=1)
lines.append("PRAGMA user_version = 1;")
open(os.path.join(here, "schema_v1.sql"), "w").write("\n".join(lines) + "\n")
